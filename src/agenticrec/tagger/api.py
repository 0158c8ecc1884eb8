"""AgenticTagger from Python: ``Tagger(llm=...).build(dataset)``, then ``.assign(dataset)``."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from agenticrec.data import Dataset
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.semantic_ids import SemanticIDs, load_semantic_ids
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.vocabulary import Vocabulary


class Tagger:
    """Builds and assigns a descriptor vocabulary; every artifact and the LLM ledger live in ``run_dir``."""

    def __init__(
        self,
        config: TaggerConfig | None = None,
        *,
        llm: LLMConfig | None = None,
        run_dir: str | Path = "runs/tagger",
        seed: int = 42,
        client: LLMClient | None = None,
    ) -> None:
        """``client``: an open client on ``run_dir``'s ledger to use; by default each call opens its own."""
        self.config = config or TaggerConfig()
        self.llm = llm or LLMConfig()
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.client = client

    def build(self, dataset: Dataset) -> Vocabulary:
        """Algorithms 1 and 2: the vocabulary (resumable: a rerun replays finished calls from the ledger)."""
        from agenticrec.tagger.build import run_build

        with self._client() as client:
            return run_build(dataset, self.config, client, self.run_dir, self.seed)

    def assign(self, dataset: Dataset) -> pd.DataFrame:
        """One descriptor per level for every item, plus its resolver token; also publishes the semantic IDs."""
        from agenticrec.tagger.assign import run_assign

        with self._client() as client:
            return run_assign(dataset, self.config, client, self.run_dir, self.seed)

    def keywords(self, dataset: Dataset) -> dict[str, Any]:
        """The free-form keyword baseline on a seeded sample of items."""
        from agenticrec.tagger.keywords import run_keywords

        with self._client() as client:
            return run_keywords(dataset, self.config, client, self.run_dir, self.seed)

    def audit(self, dataset: Dataset) -> dict[str, Any]:
        """The LLM-judge audit: precision and recall of "this descriptor fits" (assigned vs a random sibling)."""
        from agenticrec.tagger.audit import run_audit

        with self._client() as client:
            return run_audit(dataset, self.config, client, self.run_dir, self.seed)

    def semantic_ids(self) -> SemanticIDs:
        """The descriptor paths that `assign` published."""
        return load_semantic_ids(self.run_dir, "descriptors")

    def _client(self) -> AbstractContextManager[LLMClient]:
        return nullcontext(self.client) if self.client is not None else LLMClient(self.llm, self.run_dir)
