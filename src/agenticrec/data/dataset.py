"""The in-memory dataset every stage reads: an items table, user sequences and the leave-one-out split."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from agenticrec.errors import DataError

MIN_SEQUENCE_LENGTH = 3  # leave-one-out needs one training item, one validation item and one test item

Stage = Literal["valid", "test"]


@dataclass(frozen=True)
class EvalSet:
    """Inputs and held-out targets of one evaluation stage;
    ``histories[u]`` never contains ``targets[u]``'s position."""

    histories: list[np.ndarray]
    targets: np.ndarray

    def sample(self, users: int | None, seed: int = 0) -> EvalSet:
        """A seeded random subset of ``users`` users (in their original order); all of them if None or more."""
        if users is None or users >= len(self.targets):
            return self
        chosen = np.sort(np.random.default_rng(seed).permutation(len(self.targets))[:users])
        return EvalSet([self.histories[u] for u in chosen], self.targets[chosen])


@dataclass(frozen=True)
class LeaveOneOutSplit:
    """Last item = test, second-to-last = validation, the rest = training (per user, chronological).

    Item indices are 1-based; 0 is reserved for padding.
    """

    sequences: list[np.ndarray]

    @cached_property
    def train(self) -> list[np.ndarray]:
        return [seq[:-2] for seq in self.sequences]

    def stage(self, stage: Stage) -> EvalSet:
        """Validation sees ``seq[:-2]`` and predicts ``seq[-2]``; test sees ``seq[:-1]`` and predicts ``seq[-1]``."""
        cut = {"valid": 2, "test": 1}[stage]
        return EvalSet(
            histories=[seq[:-cut] for seq in self.sequences],
            targets=np.array([seq[-cut] for seq in self.sequences], dtype=np.int64),
        )


MISSING = "(none)"
"""An item's category or brand where the source has none."""


@dataclass(frozen=True)
class Dataset:
    """A catalogue plus chronological interaction sequences.

    ``items`` has one row per item with column ``item_id`` (the external id, a string) and text columns;
    row ``i`` is internal item index ``i + 1``. ``sequences[u]`` holds user ``user_ids[u]``'s internal item
    indices in chronological order. Where the source has them, ``timestamps[u]`` (unix seconds) and
    ``behaviours[u]`` (the raw behaviour value, e.g. a rating, as a string) are aligned with ``sequences[u]``;
    ``category_field`` and ``brand_field`` name the items columns that hold each item's category and brand.
    """

    name: str
    items: pd.DataFrame
    user_ids: list[str]
    sequences: list[np.ndarray]
    text_fields: list[str] = field(default_factory=list)
    timestamps: list[np.ndarray] | None = None
    behaviours: list[np.ndarray] | None = None
    category_field: str | None = None
    brand_field: str | None = None

    def __post_init__(self) -> None:
        if len(self.user_ids) != len(self.sequences):
            raise DataError(f"{self.name}: {len(self.user_ids)} user ids but {len(self.sequences)} sequences")
        for label, events in (("timestamps", self.timestamps), ("behaviours", self.behaviours)):
            if events is not None and [len(e) for e in events] != [len(s) for s in self.sequences]:
                raise DataError(f"{self.name}: {label} are not aligned with the interaction sequences")
        for label, column in (("category", self.category_field), ("brand", self.brand_field)):
            if column is not None and column not in self.items.columns:
                raise DataError(f"{self.name}: {label} field {column!r} is not an items column")
        short = [u for u, seq in zip(self.user_ids, self.sequences) if len(seq) < MIN_SEQUENCE_LENGTH]
        if short:
            raise DataError(
                f"{self.name}: {len(short)} users have fewer than {MIN_SEQUENCE_LENGTH} interactions "
                f"(leave-one-out needs train, validation and test items), e.g. user {short[0]!r}"
            )

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(seq) for seq in self.sequences))

    def split(self) -> LeaveOneOutSplit:
        return LeaveOneOutSplit(self.sequences)

    def sample_users(self, users: int, seed: int = 0) -> Dataset:
        """The same catalogue with a seeded random sample of ``users`` users (in their original order)."""
        if users >= self.n_users:
            return self
        keep = np.sort(np.random.default_rng(seed).permutation(self.n_users)[:users]).tolist()
        return replace(
            self,
            user_ids=[self.user_ids[u] for u in keep],
            sequences=[self.sequences[u] for u in keep],
            timestamps=None if self.timestamps is None else [self.timestamps[u] for u in keep],
            behaviours=None if self.behaviours is None else [self.behaviours[u] for u in keep],
        )

    @cached_property
    def index_of(self) -> dict[str, int]:
        """External item id -> internal 1-based index."""
        return {item_id: i + 1 for i, item_id in enumerate(self.items["item_id"])}

    def item_index(self, item_id: str) -> int:
        try:
            return self.index_of[str(item_id)]
        except KeyError:
            raise DataError(f"{self.name}: unknown item id {item_id!r}") from None

    def item_text(self, index: int, words: int | None = None) -> str:
        """Item text as key-value fields, e.g. ``title: OPI Nail Lacquer; brand: OPI; categories: Beauty > Nails``;
        with `words`, each field's value cut to its first that many words."""
        row = self.items.iloc[index - 1]
        values = [(name, str(row[name])) for name in self.text_fields if present(row[name])]
        return "; ".join(f"{name}: {first_words(value, words) if words else value}" for name, value in values)

    def title(self, index: int) -> str:
        """Item ``index``'s first text field (its title, in every catalogue we ship), or its whole text when the
        catalogue has no text field."""
        if not self.text_fields:
            return self.item_text(index)
        return str(self.items[self.text_fields[0]].iloc[index - 1])

    def without_category_field(self) -> Dataset:
        """This catalogue with every text field but the category field: the item text a model reads when the
        category is what it must judge (a label it could otherwise copy)."""
        fields = [f for f in self.text_fields if f != self.category_field]
        if not fields:
            raise DataError(f"{self.name}: no item text field besides the category field")
        return replace(self, text_fields=fields)

    def item_texts(self) -> list[str]:
        return [self.item_text(i) for i in range(1, self.n_items + 1)]

    def item_ids(self) -> list[str]:
        """External item ids in index order (position ``i`` is item index ``i + 1``)."""
        return [str(i) for i in self.items["item_id"]]

    def categories(self) -> np.ndarray | None:
        """Each item's category as a string, in index order (position ``i`` is item ``i + 1``); None if unknown.

        A multi-path field such as Amazon's ``Beauty > Makeup > Nails | Beauty > Nails`` gives its first path.
        """
        if self.category_field is None:
            return None
        values = self.items[self.category_field]
        return np.array([str(v).split(" | ")[0].strip() if present(v) else MISSING for v in values], dtype=object)

    def brands(self) -> np.ndarray | None:
        """Each item's brand as a string (``(none)`` where missing), in index order; None if the source has none."""
        if self.brand_field is None:
            return None
        return np.array([str(v).strip() if present(v) else MISSING for v in self.items[self.brand_field]], dtype=object)

    def stats(self) -> dict[str, float | int]:
        lengths = np.array([len(seq) for seq in self.sequences])
        return {
            "users": self.n_users,
            "items": self.n_items,
            "interactions": self.n_interactions,
            "density": self.n_interactions / (self.n_users * self.n_items),
            "mean_sequence_length": float(lengths.mean()),
            "max_sequence_length": int(lengths.max()),
        }


def present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return str(value).strip() != ""


def first_words(text: str, words: int) -> str:
    """The first `words` whitespace-separated words of `text`, joined by single spaces."""
    return " ".join(text.split()[:words])
