"""The model registry: adding a model is one module plus one entry in ``MODELS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from agenticrec.config import RunConfig
from agenticrec.data import Dataset
from agenticrec.data.dataset import LeaveOneOutSplit
from agenticrec.errors import AgenticRecError
from agenticrec.models.generative import GenerativeRetrieval
from agenticrec.models.popularity import Popularity
from agenticrec.models.sasrec import SASRec
from agenticrec.models.training import resolve_device, train_next_item
from agenticrec.semantic_ids.builders import build_semantic_ids, semantic_ids_path
from agenticrec.semantic_ids.codes import SemanticIDs
from agenticrec.semantic_ids.tokenizer import SemanticIDTokenizer


class Recommender(Protocol):
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Scores of shape (len(histories), n_items + 1); column 0 is padding."""


@dataclass(frozen=True)
class ModelSpec:
    fit: Callable[[RunConfig, Dataset, LeaveOneOutSplit, np.ndarray], tuple[Recommender, dict]]
    load: Callable[[RunConfig, np.ndarray], Recommender]


def _tokenizer(config: RunConfig, dataset: Dataset | None) -> SemanticIDTokenizer:
    """Build the run's semantic IDs (``dataset`` given), or read the ones saved when the run was trained."""
    if dataset is not None:
        return SemanticIDTokenizer(build_semantic_ids(dataset, config.semantic_ids, config.run_dir, config.seed))
    return SemanticIDTokenizer(SemanticIDs.load(semantic_ids_path(config.run_dir, config.semantic_ids.method)))


def _sasrec(config: RunConfig, n_items: int, dataset: Dataset | None) -> SASRec:
    assert config.model.name == "sasrec"
    features = _tokenizer(config, dataset).path_tokens() if config.model.semantic_id_features else None
    return SASRec(n_items, config.model, features)


def _fit_popularity(config: RunConfig, dataset: Dataset, split: LeaveOneOutSplit, counts: np.ndarray):
    return Popularity(counts), {}


def _fit_sasrec(config: RunConfig, dataset: Dataset, split: LeaveOneOutSplit, counts: np.ndarray):
    model = _sasrec(config, len(counts) - 1, dataset)
    summary = train_next_item(model, split, counts, config.train, config.evaluate, config.run_dir,
                              resolve_device(config.train.device))
    return model, summary


def _fit_generative(config: RunConfig, dataset: Dataset, split: LeaveOneOutSplit, counts: np.ndarray):
    assert config.model.name == "generative"
    tokenizer = _tokenizer(config, dataset)
    model = GenerativeRetrieval(tokenizer, config.model)
    summary = train_next_item(model, split, counts, config.train, config.evaluate, config.run_dir,
                              resolve_device(config.train.device))
    return model, {**summary, "semantic_ids": tokenizer.ids.stats()}


def _restore(model: torch.nn.Module, config: RunConfig) -> torch.nn.Module:
    path = Path(config.run_dir) / "checkpoint.pt"
    if not path.is_file():
        raise AgenticRecError(f"no checkpoint at {path}; train first with `agenticrec train`")
    device = resolve_device(config.train.device)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device).eval()


def _load_sasrec(config: RunConfig, counts: np.ndarray) -> Recommender:
    return _restore(_sasrec(config, len(counts) - 1, None), config)


def _load_generative(config: RunConfig, counts: np.ndarray) -> Recommender:
    assert config.model.name == "generative"
    return _restore(GenerativeRetrieval(_tokenizer(config, None), config.model), config)


MODELS: dict[str, ModelSpec] = {
    "popularity": ModelSpec(_fit_popularity, lambda config, counts: Popularity(counts)),
    "sasrec": ModelSpec(_fit_sasrec, _load_sasrec),
    "generative": ModelSpec(_fit_generative, _load_generative),
}
