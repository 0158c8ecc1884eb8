"""Item tags as the tag tower reads them: distinct phrases, each a bag of word tokens, and each item's phrases."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from agenticrec.data.dataset import MISSING, Dataset
from agenticrec.errors import DataError
from agenticrec.semantic_ids.codes import SemanticIDs

WORD = re.compile(r"[a-z0-9]+")


def category_tags(dataset: Dataset) -> list[list[str]]:
    """Each item's tags from its category path (``Beauty > Makeup > Nails`` gives ``Makeup`` and ``Nails``)."""
    categories = dataset.categories()
    if categories is None:
        raise ValueError(f"{dataset.name} has no category field; TAR's tags need categories or descriptors")
    return [path_tags(value) for value in categories]


def path_tags(category: str) -> list[str]:
    """A category path's tags: every level below the root, or the whole value when it has one level; none for
    the missing category."""
    if category == MISSING:
        return []
    levels = [level.strip() for level in str(category).split(">") if level.strip()]
    return levels[1:] if len(levels) > 1 else levels


def table_tags(dataset: Dataset, path: Path) -> list[list[str]]:
    """Each item's tags from a Parquet table of ``item_id`` and ``tags`` (a list of phrases); items it lacks get
    none. An id the catalogue does not have is an error (the table belongs to another dataset)."""
    if not path.is_file():
        raise DataError(f"no tag table at {path}; write one with `agenticrec intent item-tags`")
    table = pd.read_parquet(path)
    if missing := {"item_id", "tags"} - set(table.columns):
        raise DataError(f"tag table {path} lacks column(s) {sorted(missing)}")
    tags: list[list[str]] = [[] for _ in range(dataset.n_items)]
    for item_id, phrases in zip(table["item_id"].astype(str), table["tags"]):
        tags[dataset.item_index(item_id) - 1] = [str(p) for p in phrases]
    return tags


def descriptor_tags(ids: SemanticIDs) -> list[list[str]]:
    """Each item's tags: the names of its descriptor path."""
    return [list(names) for names in ids.names]


@dataclass(frozen=True)
class TagTable:
    """Distinct tag phrases (their word ids, flat with offsets, for an ``EmbeddingBag``) and each item's phrase ids.

    Item index ``i`` (1-based) owns ``item_phrases[item_offsets[i]:item_offsets[i + 1]]``; padding item 0 owns none.
    """

    phrases: list[str]
    words: list[str]
    phrase_words: torch.Tensor
    phrase_offsets: torch.Tensor
    item_phrases: torch.Tensor
    item_offsets: torch.Tensor

    @classmethod
    def build(cls, item_tags: list[list[str]]) -> TagTable:
        phrases: dict[str, int] = {}
        words: dict[str, int] = {}
        per_item: list[list[int]] = [[]]  # padding item 0
        for tags in item_tags:
            own = []
            for tag in dict.fromkeys(t.strip() for t in tags):
                tokens = WORD.findall(tag.lower())
                if not tokens:
                    continue
                if tag not in phrases:
                    phrases[tag] = len(phrases)
                    for token in tokens:
                        words.setdefault(token, len(words))
                own.append(phrases[tag])
            per_item.append(own)
        bags = [[words[t] for t in WORD.findall(p.lower())] for p in phrases]
        return cls(
            phrases=list(phrases),
            words=list(words),
            phrase_words=torch.tensor([w for bag in bags for w in bag], dtype=torch.long),
            phrase_offsets=_offsets([len(bag) for bag in bags]),
            item_phrases=torch.tensor([p for own in per_item for p in own], dtype=torch.long),
            item_offsets=_offsets([len(own) for own in per_item], closed=True),
        )

    @functools.cached_property
    def word_ids(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    def of_item(self, index: int) -> list[int]:
        return self.item_phrases[self.item_offsets[index] : self.item_offsets[index + 1]].tolist()

    def user_phrases(self, histories: list[np.ndarray], last: int) -> list[list[int]]:
        """The distinct phrases of each history's ``last`` items, most recent item's first."""
        out = []
        for history in histories:
            own = [p for item in history[::-1][:last] for p in self.of_item(int(item))]
            out.append(list(dict.fromkeys(own)))
        return out


def _offsets(lengths: list[int], closed: bool = False) -> torch.Tensor:
    """Start of each run (``closed``: plus the end of the last one)."""
    ends = torch.tensor(lengths, dtype=torch.long).cumsum(0)
    starts = torch.cat([torch.zeros(1, dtype=torch.long), ends])
    return starts if closed else starts[:-1]
