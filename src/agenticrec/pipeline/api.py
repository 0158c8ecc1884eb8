"""Runs from Python: ``Run.from_config(model="sasrec-ce", data="amazon-beauty").train()``, then
``run.recommend(["196"], k=10, allow=["Drama"])``; `ConfiguredRun` is the base of every system's entry class."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline.config import RunConfig, load_config
from agenticrec.pipeline.provenance import StageRun, stage_run
from agenticrec.pipeline.run import METRICS, TrainedRun, load_run, train_and_evaluate


class ConfiguredRun:
    """A run directory driven from Python by its run config, with the command line's layers: presets < YAML file <
    ``key=value`` overrides. A system's step runs as the command of the same name does (`stage`)."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config

    @classmethod
    def from_config(
        cls,
        path: str | Path | None = None,
        *,
        overrides: Sequence[str] = (),
        data: str | None = None,
        model: str | None = None,
        llm: str | None = None,
    ) -> Self:
        """From presets (``data``, ``model``, ``llm``), an optional YAML file and ``key=value`` overrides."""
        return cls(load_config(Path(path) if path else None, overrides, data=data, model=model, llm=llm))

    def stage(self, name: str, fresh: bool = False) -> AbstractContextManager[StageRun]:
        """Stage ``name`` of `provenance.STAGES` on this run directory: the dataset, the checks against what the
        directory holds, an LLM client on its ledger; recorded once the block succeeds."""
        return stage_run(self.config, name, fresh=fresh)


class Run(ConfiguredRun):
    """One run directory: its config, and once trained, its metrics and model."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__(config)
        self._trained: TrainedRun | None = None

    @classmethod
    def load(cls, run_dir: str | Path) -> Run:
        """A finished run directory."""
        trained = load_run(Path(run_dir))
        run = cls(trained.config)
        run._trained = trained
        return run

    def train(self) -> dict[str, Any]:
        """Fit, evaluate and write the run directory; returns the metrics (as ``metrics.json``)."""
        results = train_and_evaluate(self.config)
        self._trained = None
        return results

    @property
    def metrics(self) -> dict[str, Any]:
        import json

        path = self.config.run_dir / METRICS
        if not path.is_file():
            raise AgenticRecError(f"{self.config.run_dir} has no {METRICS}; call train() first")
        return dict(json.loads(path.read_text()))

    @property
    def trained(self) -> TrainedRun:
        if self._trained is None:
            self._trained = load_run(self.config.run_dir)
        return self._trained

    def recommend(self, users: Sequence[str], k: int = 10, allow: Sequence[str] = ()) -> pd.DataFrame:
        """Top-``k`` items after each user's whole history; ``allow`` keeps only items under these level-1
        descriptors (tokens or names) of the run's semantic IDs. Columns: user_id, rank, item_id, score."""
        run = self.trained
        dataset = run.dataset
        try:
            histories = [dataset.sequences[dataset.user_ids.index(str(u))] for u in users]
        except ValueError:
            unknown = [u for u in users if str(u) not in dataset.user_ids]
            raise AgenticRecError(f"{dataset.name}: unknown user id(s) {unknown}") from None
        allowed = None
        if allow:
            if run.semantic_ids is None:
                raise AgenticRecError(f"{self.config.run_dir}: `allow` needs a run with semantic IDs")
            allowed = run.semantic_ids.items_under_level1(list(allow))
        items, scores = run.model.recommend(histories, k=k, allowed=allowed)
        rows = [
            {"user_id": str(user), "rank": rank + 1, "item_id": dataset.item_ids()[item - 1], "score": score}
            for user, row_items, row_scores in zip(users, items, scores)
            for rank, (item, score) in enumerate(zip(row_items.tolist(), row_scores.tolist()))
            if item and np.isfinite(score)
        ]
        return pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])
