"""Most-popular baseline: every user gets the items with the most training interactions."""

from __future__ import annotations

import numpy as np
import torch


class Popularity:
    def __init__(self, item_counts: np.ndarray) -> None:
        self.counts = torch.as_tensor(item_counts, dtype=torch.float32)

    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        return self.counts.expand(len(histories), -1)
