"""The model registry: adding a model is one module plus one entry in ``MODELS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from agenticrec.config import RunConfig
from agenticrec.data.dataset import LeaveOneOutSplit
from agenticrec.errors import AgenticRecError
from agenticrec.models.popularity import Popularity
from agenticrec.models.sasrec import SASRec
from agenticrec.models.training import resolve_device, train_sequence_model


class Recommender(Protocol):
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Scores of shape (len(histories), n_items + 1); column 0 is padding."""


@dataclass(frozen=True)
class ModelSpec:
    fit: Callable[[RunConfig, LeaveOneOutSplit, np.ndarray], tuple[Recommender, dict[str, float]]]
    load: Callable[[RunConfig, np.ndarray], Recommender]


def _fit_popularity(config: RunConfig, split: LeaveOneOutSplit, counts: np.ndarray):
    return Popularity(counts), {}


def _fit_sasrec(config: RunConfig, split: LeaveOneOutSplit, counts: np.ndarray):
    model = SASRec(len(counts) - 1, config.model)
    summary = train_sequence_model(model, split, counts, config.train, config.evaluate, config.run_dir,
                                   resolve_device(config.train.device))
    return model, summary


def _load_sasrec(config: RunConfig, counts: np.ndarray) -> SASRec:
    path = config.run_dir / "checkpoint.pt"
    if not path.is_file():
        raise AgenticRecError(f"no checkpoint at {path}; train first with `agenticrec train`")
    device = resolve_device(config.train.device)
    model = SASRec(len(counts) - 1, config.model)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device).eval()


MODELS: dict[str, ModelSpec] = {
    "popularity": ModelSpec(_fit_popularity, lambda config, counts: Popularity(counts)),
    "sasrec": ModelSpec(_fit_sasrec, _load_sasrec),
}
