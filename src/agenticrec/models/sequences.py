"""Item sequences as model inputs: left-padded batches and next-item training examples."""

from __future__ import annotations

import numpy as np
import torch


def left_pad(sequences: list[np.ndarray], length: int) -> torch.Tensor:
    """Keep the last ``length`` items of each sequence, right-aligned, padding with 0 on the left."""
    batch = np.zeros((len(sequences), length), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = seq[-length:]
        if len(tail):
            batch[row, length - len(tail) :] = tail
    return torch.from_numpy(batch)


def next_item_examples(
    train: list[np.ndarray], max_items: int, per_user: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-item examples of the training sequences, (left-padded last ``max_items`` items, next item): every
    one, or each user's ``per_user`` most recent."""
    histories, targets = [], []
    for seq in train:
        first = 1 if per_user is None else max(1, len(seq) - per_user)
        for t in range(first, len(seq)):
            histories.append(seq[max(0, t - max_items) : t])
            targets.append(seq[t])
    return left_pad(histories, max_items), torch.as_tensor(np.array(targets, dtype=np.int64))
