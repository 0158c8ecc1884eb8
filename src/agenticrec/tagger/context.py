"""What every tagger stage works with: item texts and embeddings, the LLM client (it counts its usage), the log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.io import atomic_write_text
from agenticrec.llm import LLMClient
from agenticrec.tagger.agents import ANNOTATOR, NONE, annotate_request, label_model, labels_of
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.grounding import instruction_like
from agenticrec.tagger.vocabulary import Descriptor


@dataclass
class TaggerContext:
    """Items are addressed by position 0..n-1 (dataset item index minus one)."""

    tagger: TaggerConfig
    seed: int
    run_dir: Path
    client: LLMClient
    item_ids: list[str]
    texts: list[str]
    embeddings: np.ndarray
    flagged: list[bool]  # item text reads like instructions to a model: never naming evidence
    events: list[dict[str, Any]] = field(default_factory=list)
    console: Console = field(default_factory=lambda: Console(stderr=True))

    def log(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, **fields})

    def write_log(self, path: Path) -> None:
        atomic_write_text(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.events))

    def rng(self, *salt: object) -> np.random.Generator:
        """A generator seeded by the run seed and `salt`, so reruns draw the same samples."""
        return np.random.default_rng([self.seed, *(_stable(s) for s in salt)])

    def label_items(
        self,
        parent: Descriptor | None,
        categories: list[Descriptor],
        items: list[int],
        *,
        allow_none: bool,
        per_call: int = 1,
        branching: int = 1,
        min_share: float = 0.0,
    ) -> dict[int, list[int]]:
        """Ask the annotator which of `categories` each item belongs to; returns category positions per item.

        When the annotator role chooses by scoring (`llm.roles.annotator.choice`), each item's category is
        picked by scoring the names as answers (one item per call, one answer), and a pick the model gives less
        than `min_share` probability among the options counts as fitting nothing; otherwise the answers are
        generated, constrained to the names. An item whose call failed gets no entry; one that fits nothing
        gets an empty list.
        """
        names = [c.name for c in categories]
        limit = self.tagger.max_text_chars
        if per_call == 1 and branching == 1 and self.client.config.role(ANNOTATOR).choice != "generate":
            options = [*names, NONE] if allow_none else names
            requests = [
                annotate_request(parent, categories, [self.texts[i]], allow_none=allow_none, limit=limit) for i in items
            ]
            free = annotate_request(parent, categories, ["N/A"], allow_none=allow_none, limit=limit)
            picks = self.client.choose(ANNOTATOR, requests, [options] * len(items), content_free=[free] * len(items))
            return {
                i: [p.index] if p.index < len(names) and (p.share is None or p.share >= min_share) else []
                for i, p in zip(items, picks)
                if p.index is not None
            }
        chunks = [items[i : i + per_call] for i in range(0, len(items), per_call)]
        chunk_requests = [
            annotate_request(parent, categories, [self.texts[i] for i in chunk], allow_none=allow_none, limit=limit)
            for chunk in chunks
        ]
        answers: dict[int, list[int]] = {}
        for size in sorted({len(c) for c in chunks}):
            picked = [k for k, c in enumerate(chunks) if len(c) == size]
            model = label_model(names, allow_none=allow_none, items=size, branching=branching)
            results = self.client.batch(ANNOTATOR, [chunk_requests[k] for k in picked], model)
            for k, result in zip(picked, results):
                if result.value is not None:
                    for item, chosen in zip(chunks[k], labels_of(result.value)):
                        answers[item] = [names.index(n) for n in chosen]
        return answers


def _stable(value: object) -> int:
    """A process-independent integer for seeding (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:4], "little")


def open_context(dataset: Dataset, config: TaggerConfig, client: LLMClient, run_dir: Path, seed: int) -> TaggerContext:
    """Embed the dataset's item texts (cached in the run directory) and gather what every tagger stage needs."""
    texts = dataset.item_texts()
    embeddings = embed_texts(texts, config.embedding_model, cache_dir=Path(run_dir) / "cache")
    return TaggerContext(
        tagger=config,
        seed=seed,
        run_dir=Path(run_dir),
        client=client,
        item_ids=dataset.item_ids(),
        texts=texts,
        embeddings=embeddings,
        flagged=[instruction_like(t) for t in texts],
    )
