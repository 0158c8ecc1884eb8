"""What every registered model is: a scorer over the catalogue that declares its capabilities on its class.

The pipeline reads the capabilities (does it train, may it be refit, does it need semantic IDs, can it be
restricted to allowed items) instead of testing model names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from agenticrec.config import EvaluateConfig, Section
from agenticrec.data.dataset import Dataset, EvalSet
from agenticrec.semantic_ids.codes import SemanticIDs


class ModelSection(Section):
    """Base of every model's config section; ``name`` is its key in ``MODELS``."""

    name: str


class Recommender(Protocol):
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Scores of shape (len(histories), n_items + 1); column 0 is padding."""
        ...


@dataclass(frozen=True)
class ModelInputs:
    """What a model may be built from: catalogue size, training counts, the run's semantic IDs if it uses any, the
    dataset for models that read item fields (category, brand, text), and where to cache what it derives from them."""

    n_items: int
    item_counts: np.ndarray
    semantic_ids: SemanticIDs | None = None
    dataset: Dataset | None = None
    cache_dir: Path | None = None

    def require_dataset(self) -> Dataset:
        if self.dataset is None:
            raise ValueError("this model reads item fields and needs the dataset")
        return self.dataset

    def require_semantic_ids(self) -> SemanticIDs:
        if self.semantic_ids is None:
            raise ValueError("this model needs the run's semantic IDs")
        return self.semantic_ids


class Model:
    """Capabilities and construction of a registered model (mixed into its class)."""

    config_class: ClassVar[type[ModelSection]]
    trains: ClassVar[bool] = True
    """Fitted by the next-item training loop and saved as ``checkpoint.pt``."""
    supports_refit: ClassVar[bool] = True
    """May be retrained on training + validation items for the early-stopped epoch count (``train.refit``)."""
    decodes_semantic_ids: ClassVar[bool] = False
    """Writes item IDs token by token, so its ranked list is its beam and ``recommend`` restricts the decoding
    itself to allowed items (critique control); other models mask their scores."""

    @classmethod
    def uses_semantic_ids(cls, config: Any) -> bool:
        """Whether a run with this config needs the ``semantic_ids`` stage."""
        return cls.decodes_semantic_ids

    @classmethod
    def create(cls, config: Any, inputs: ModelInputs) -> Model:
        """A fresh (untrained) model for ``config``."""
        raise NotImplementedError

    @classmethod
    def protocol_notes(cls, config: Any) -> dict[str, str]:
        """Evaluation details a reader needs beside the metrics (e.g. how decoding truncates the ranking)."""
        return {}

    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Scores of shape (len(histories), n_items + 1); column 0 is padding."""
        raise NotImplementedError

    def tune_on_validation(self, valid: EvalSet, item_counts: np.ndarray, evaluate: EvaluateConfig) -> dict[str, Any]:
        """After training, set inference-time settings on validation users (e.g. a fusion weight) and return what
        was tried; most models have none."""
        return {}

    @torch.no_grad()
    def score_batched(self, histories: list[np.ndarray], batch_size: int = 256) -> np.ndarray:
        """``score`` of many users in batches, as one float array."""
        parts = [
            self.score(histories[i : i + batch_size]).float().numpy() for i in range(0, len(histories), batch_size)
        ]
        return np.concatenate(parts) if parts else np.empty((0, 0), dtype=np.float32)

    @torch.no_grad()
    def recommend(
        self, histories: list[np.ndarray], k: int | None = None, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (default 10) items and their scores per history, only among ``allowed`` items if given (a boolean
        mask over item indices, (n_items + 1,) for everyone or (len(histories), n_items + 1) per user)."""
        scores = self.score(histories).clone()
        scores[:, 0] = -torch.inf
        if allowed is not None:
            blocked = ~torch.as_tensor(np.broadcast_to(allowed, scores.shape).copy())
            scores[blocked] = -torch.inf
        top = scores.topk(min(k or 10, scores.shape[1] - 1), dim=1)
        return top.indices.numpy(), top.values.numpy()
