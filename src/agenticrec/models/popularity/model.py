"""Most-popular baseline: every user gets the items with the most training interactions."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from agenticrec.models.base import Model, ModelInputs
from agenticrec.models.popularity.config import PopularityConfig


class Popularity(Model):
    config_class: ClassVar[type[PopularityConfig]] = PopularityConfig
    trains = False
    supports_refit = False

    def __init__(self, item_counts: np.ndarray) -> None:
        self.counts = torch.as_tensor(item_counts, dtype=torch.float32)

    @classmethod
    def create(cls, config: PopularityConfig, inputs: ModelInputs) -> Popularity:
        return cls(inputs.item_counts)

    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        return self.counts.expand(len(histories), -1)
