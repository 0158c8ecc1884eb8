"""What a server loads once: the trained runs (one shared catalogue), descriptor paths, the vocabulary and the
explanation tables; and the one function every endpoint ranks with."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts as intent_artifacts
from agenticrec.intent.explanations import Explained, ExplanationLookup
from agenticrec.pipeline import TrainedRun, load_run
from agenticrec.pipeline.run import METRICS
from agenticrec.semantic_ids import SemanticIDs, catalogue_key
from agenticrec.tagger import artifacts as tagger_artifacts
from agenticrec.tagger.vocabulary import Vocabulary

MAX_K = 100


@dataclass
class ServedModel:
    """One trained run; ``lock`` makes its scoring one request at a time (torch modules are not re-entrant)."""

    name: str
    run: TrainedRun
    test_metrics: dict[str, Any]
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def kind(self) -> str:
        return str(self.run.config.model.name)

    def rank(self, history: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` allowed items after ``history`` (item indices and scores), best first, no padding item."""
        beam = getattr(self.run.config.model, "beam", None)  # a generative run searches its whole beam
        width = max(k, beam) if isinstance(beam, int) else k
        with self.lock:
            items, scores = self.run.model.recommend([history], k=width, allowed=allowed)
        keep = np.isfinite(scores[0]) & (items[0] > 0)
        return items[0][keep][:k], scores[0][keep][:k]


@dataclass
class Catalogue:
    """Everything the API and the page read, loaded once by ``Catalogue.load``; ``descriptor_ids`` are the first
    served run's semantic IDs (descriptor paths on a tagger-built run), which the critique chips filter by."""

    dataset: Dataset
    models: dict[str, ServedModel]
    descriptor_ids: SemanticIDs | None
    vocabulary: Vocabulary | None
    explanations: list[ExplanationLookup]

    @classmethod
    def load(cls, paths: list[Path]) -> Catalogue:
        run_dirs, intent_dirs = discover(paths)
        if not run_dirs:
            raise AgenticRecError(
                f"no trained run under {', '.join(map(str, paths))} (a run directory holds config.yaml and "
                f"{METRICS}); train one with `agenticrec train` or run the quickstart"
            )
        runs = [load_run(d) for d in run_dirs]
        dataset = runs[0].dataset
        key = catalogue_key(dataset.item_ids())
        for other in runs[1:]:
            if catalogue_key(other.dataset.item_ids()) != key:
                raise AgenticRecError(
                    f"{other.config.run_dir} is on another catalogue than {runs[0].config.run_dir}; "
                    "serve runs of one dataset together"
                )
        models = {}
        for run in runs:
            name = run.config.run_dir.name  # the folder name, or the whole path where two folders share one
            name = name if name not in models else str(run.config.run_dir)
            metrics = json.loads((run.config.run_dir / METRICS).read_text())
            models[name] = ServedModel(name, run, dict(metrics.get("test", {})))
        ids = next((r.semantic_ids for r in runs if r.semantic_ids is not None), None)
        return cls(
            dataset,
            models,
            ids,
            _vocabulary(runs, ids),
            [ExplanationLookup.load(d) for d in intent_dirs],
        )

    @property
    def default_model(self) -> str:
        """A SASRec run if there is one (the fastest learned model), else the first."""
        return next((name for name, m in self.models.items() if m.kind == "sasrec"), next(iter(self.models)))

    def model(self, name: str | None) -> ServedModel:
        return self.models[name or self.default_model]

    def user_index(self, user_id: str) -> int | None:
        return self._user_index.get(user_id)

    def item_index(self, item_id: str) -> int | None:
        return self.dataset.index_of.get(item_id)

    def history(self, user_id: str) -> np.ndarray:
        index = self.user_index(user_id)
        assert index is not None
        return self.dataset.sequences[index]

    def level1(self) -> dict[str, str]:
        return self.descriptor_ids.level1() if self.descriptor_ids is not None else {}

    def allowed(self, exclude: np.ndarray, allow: list[str]) -> np.ndarray:
        """Mask over item indices: under the chosen level-1 descriptors (all if none), minus ``exclude``."""
        if allow:
            assert self.descriptor_ids is not None
            mask = self.descriptor_ids.items_under_level1(allow)
        else:
            mask = np.ones(self.dataset.n_items + 1, dtype=bool)
        mask[0] = False
        mask[exclude] = False
        return mask

    def describe(self, index: int) -> dict[str, Any]:
        """An item as the API shows it: id, text, fields, descriptor path (built once per item)."""
        if index not in self._described:
            self._described[index] = self._describe(index)
        return self._described[index]

    def _describe(self, index: int) -> dict[str, Any]:
        row = self.dataset.items.iloc[index - 1]
        path = None
        if self.descriptor_ids is not None:
            path = list(self.descriptor_ids.names[index - 1])
        return {
            "item_id": str(row["item_id"]),
            "text": self.dataset.item_text(index),
            "fields": {name: str(row[name]) for name in self.dataset.text_fields},
            "descriptor_path": path,
        }

    def explain(self, user_id: str, item_id: str) -> Explained | None:
        for lookup in self.explanations:
            found = lookup.explain(user_id, item_id)
            if found is not None:
                return found
        return None

    def __post_init__(self) -> None:
        self._user_index = {user: u for u, user in enumerate(self.dataset.user_ids)}
        self._described: dict[int, dict[str, Any]] = {}


def discover(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Trained run directories and intent runs with explanation tables, at each path or one level below it (so that
    ``runs/quickstart`` serves its popularity, SASRec and generative runs)."""
    runs: list[Path] = []
    intents: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise AgenticRecError(f"{path} is not a directory")
        for candidate in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
            if (candidate / "config.yaml").is_file() and (candidate / METRICS).is_file():
                runs.append(candidate)
            if (intent_artifacts.intent_dir(candidate) / intent_artifacts.EXPLANATIONS).is_file():
                intents.append(candidate)
            if candidate == path and candidate in runs:
                break
    return runs, intents


def _vocabulary(runs: list[TrainedRun], ids: SemanticIDs | None) -> Vocabulary | None:
    """The descriptor vocabulary behind the served descriptor IDs (from the runs' tagger run), if any."""
    if ids is None or ids.method != "descriptors":
        return None
    for run in runs:
        tagger_run = run.config.semantic_ids.tagger_run
        if tagger_run is not None and (Path(tagger_run) / tagger_artifacts.VOCABULARY).is_file():
            return Vocabulary.load(Path(tagger_run) / tagger_artifacts.VOCABULARY)
    return None
