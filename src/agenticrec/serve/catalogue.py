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
from agenticrec.evolve.composition import COMPOSE, Composition, load_composition
from agenticrec.intent import artifacts as intent_artifacts
from agenticrec.intent.explanations import Explained, ExplanationLookup
from agenticrec.models.base import Model
from agenticrec.pipeline import TrainedRun, load_run
from agenticrec.pipeline.run import METRICS
from agenticrec.semantic_ids import SemanticIDs, catalogue_key
from agenticrec.tagger import artifacts as tagger_artifacts
from agenticrec.tagger.vocabulary import Vocabulary

MAX_K = 100
COMPOSITION = "composition"


@dataclass
class ServedModel:
    """One trained run or composition, named by its folder. ``lock`` makes its scoring one request at a time (torch
    modules are not re-entrant); ``beam`` is a generative run's beam width, searched whole whatever ``k``."""

    name: str
    run_dir: Path
    kind: str
    model: Model
    test_metrics: dict[str, Any]
    beam: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of_run(cls, run: TrainedRun) -> ServedModel:
        metrics = json.loads((run.config.run_dir / METRICS).read_text())
        beam = getattr(run.config.model, "beam", None)
        run_dir = run.config.run_dir
        return cls(run_dir.name, run_dir, str(run.config.model.name), run.model, dict(metrics.get("test", {})), beam)

    @classmethod
    def of_composition(cls, composition: Composition) -> ServedModel:
        """Its test NDCG@10 is the composition's, measured on its seeded test users."""
        metrics = {"ndcg@10": composition.record["composed_test_ndcg10"]}
        return cls(composition.run_dir.name, composition.run_dir, COMPOSITION, composition.model, metrics)

    def rank(self, history: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` allowed items after ``history`` (item indices and scores), best first, no padding item."""
        with self.lock:
            items, scores = self.model.recommend([history], k=max(k, self.beam or 0), allowed=allowed)
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
        run_dirs, compose_dirs, intent_dirs = discover(paths)
        if not run_dirs and not compose_dirs:
            raise AgenticRecError(
                f"no trained run under {', '.join(map(str, paths))} (a run directory holds config.yaml and "
                f"{METRICS}); train one with `agenticrec train` or run the quickstart"
            )
        loaded: dict[Path, TrainedRun] = {}

        def load(run_dir: Path) -> TrainedRun:  # an agent of a composition may be served on its own too
            key = Path(run_dir).resolve()
            if key not in loaded:
                loaded[key] = load_run(run_dir)
            return loaded[key]

        runs = [load(d) for d in run_dirs]
        compositions = [load_composition(d, load) for d in compose_dirs]
        everyone = [*runs, *(run for c in compositions for run in c.runs.values())]
        key = catalogue_key(everyone[0].dataset.item_ids())
        for other in everyone[1:]:
            if catalogue_key(other.dataset.item_ids()) != key:
                raise AgenticRecError(
                    f"{other.config.run_dir} is on another catalogue than {everyone[0].config.run_dir}; "
                    "serve runs of one dataset together"
                )
        models: dict[str, ServedModel] = {}
        for served in [*map(ServedModel.of_run, runs), *map(ServedModel.of_composition, compositions)]:
            if served.name in models:  # two folders share a name: the whole path
                served.name = str(served.run_dir)
            models[served.name] = served
        ids = next((r.semantic_ids for r in everyone if r.semantic_ids is not None), None)
        return cls(
            everyone[0].dataset,
            models,
            ids,
            _vocabulary(everyone, ids),
            [ExplanationLookup.load(d) for d in intent_dirs],
        )

    @property
    def default_model(self) -> str:
        """A composition if there is one (the system chosen on validation), else a SASRec run (the fastest learned
        model), else the first."""
        for kind in (COMPOSITION, "sasrec"):
            if found := next((name for name, m in self.models.items() if m.kind == kind), None):
                return found
        return next(iter(self.models))

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


def discover(paths: list[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """Trained run directories, compositions, and intent runs with explanation tables, at each path or one level
    below it (so that ``runs/quickstart`` serves its popularity, SASRec and generative runs)."""
    runs: list[Path] = []
    compositions: list[Path] = []
    intents: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise AgenticRecError(f"{path} is not a directory")
        for candidate in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
            if (candidate / "config.yaml").is_file() and (candidate / METRICS).is_file():
                runs.append(candidate)
            elif (candidate / COMPOSE).is_file():
                compositions.append(candidate)
            if (intent_artifacts.intent_dir(candidate) / intent_artifacts.EXPLANATIONS).is_file():
                intents.append(candidate)
            if candidate == path and (candidate in runs or candidate in compositions):
                break
    return runs, compositions, intents


def _vocabulary(runs: list[TrainedRun], ids: SemanticIDs | None) -> Vocabulary | None:
    """The descriptor vocabulary behind the served descriptor IDs (from the runs' tagger run), if any."""
    if ids is None or ids.method != "descriptors":
        return None
    for run in runs:
        tagger_run = run.config.semantic_ids.tagger_run
        path = tagger_artifacts.tagger_dir(Path(tagger_run)) / tagger_artifacts.VOCABULARY if tagger_run else None
        if path is not None and path.is_file():
            return Vocabulary.load(path)
    return None
