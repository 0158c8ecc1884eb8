"""Full-ranking evaluation over the whole catalogue (no sampled negatives), leave-one-out.

Protocol (TIGER / AgenticTagger): every user's held-out item is ranked against all items. History items
are *not* masked by default; with ``mask_history=True`` every item of the user's input history is removed
from the ranking (a target that repeats a history item then counts as a miss). Ties are broken by item
index (lower index first), the same order in which top-K lists are produced, so ranks and lists agree.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import TypeVar

import numpy as np
import torch
from scipy import stats

from agenticrec.data.dataset import EvalSet

Scorer = Callable[[list[np.ndarray]], torch.Tensor]
"""Maps a batch of histories (1-based item indices) to scores of shape (batch, n_items + 1); column 0 is padding."""

K = TypeVar("K", bound=Hashable)

HEAD_SHARE = 0.2  # most popular 20% of items
TAIL_SHARE = 0.5  # least popular 50% of items
EXPOSURE_K = 10


def target_ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target: items scored higher, plus equal-scored items with a lower index."""
    target_scores = scores.gather(1, targets[:, None])
    higher = (scores > target_scores).sum(dim=1)
    index = torch.arange(scores.shape[1], device=scores.device)[None, :]
    tied_before = ((scores == target_scores) & (index < targets[:, None])).sum(dim=1)
    return higher + tied_before


def top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the ``k`` best items per row, ties broken by lower index (stable sort)."""
    return torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]


def popularity_buckets(item_counts: np.ndarray) -> np.ndarray:
    """Label items 0 = head (top 20% by count), 1 = torso, 2 = tail (bottom 50%); index 0 is padding."""
    n = len(item_counts) - 1
    order = np.argsort(-item_counts[1:], kind="stable") + 1
    buckets = np.full(len(item_counts), 1, dtype=np.int64)
    buckets[order[: round(HEAD_SHARE * n)]] = 0
    buckets[order[n - round(TAIL_SHARE * n) :]] = 2
    buckets[0] = -1
    return buckets


def mask_histories(scores: torch.Tensor, histories: Sequence[np.ndarray]) -> None:
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.concatenate(histories) if histories else np.empty(0, dtype=np.int64)
    scores[torch.as_tensor(rows, device=scores.device), torch.as_tensor(cols, device=scores.device)] = -torch.inf


def evaluate_ranking(
    scorer: Scorer,
    eval_set: EvalSet,
    item_counts: np.ndarray,
    *,
    ks: Sequence[int] = (5, 10, 20),
    mask_history: bool = False,
    batch_size: int = 1024,
    lists: bool = True,
) -> dict[str, float]:
    """Recall@K, NDCG@K, MRR and, with ``lists``, catalogue coverage@10 and top-10 exposure by popularity.

    ``item_counts[i]`` is item ``i``'s training interaction count (defines the head/torso/tail buckets).
    ``lists=False`` skips building top-10 lists, which is most of the cost (used for early stopping).
    """
    return evaluate_protocols(
        scorer, eval_set, item_counts, masks=(mask_history,), ks=ks, batch_size=batch_size, lists=lists
    )[mask_history]


def evaluate_protocols(
    scorer: Scorer,
    eval_set: EvalSet,
    item_counts: np.ndarray,
    *,
    masks: Sequence[bool] = (False, True),
    ks: Sequence[int] = (5, 10, 20),
    batch_size: int = 1024,
    lists: bool = True,
) -> dict[bool, dict[str, float]]:
    """``evaluate_ranking`` with the history not masked and masked (``masks``), from one scoring pass."""
    buckets = torch.as_tensor(popularity_buckets(item_counts))
    tallies = {mask: _Tally(buckets, lists) for mask in sorted(set(masks))}  # not masked first: masking is in place
    for histories, targets in _batches(eval_set, batch_size):
        with torch.no_grad():
            scores = _checked(scorer(histories), len(histories), len(item_counts))
        for mask, tally in tallies.items():
            if mask:
                mask_histories(scores, histories)
            tally.add(scores, torch.as_tensor(targets, device=scores.device))
    return {mask: tally.metrics(ks) for mask, tally in tallies.items()}


def evaluate_variants(
    scorer: Callable[[list[np.ndarray]], dict[K, torch.Tensor]],
    eval_set: EvalSet,
    item_counts: np.ndarray,
    *,
    ks: Sequence[int] = (5, 10, 20),
    mask_history: bool = False,
    batch_size: int = 1024,
    lists: bool = True,
) -> dict[K, dict[str, float]]:
    """``evaluate_ranking`` of several score variants from one scoring pass: ``scorer`` maps a batch of histories to
    one score matrix per variant (e.g. a fusion at each weight of a sweep)."""
    buckets = torch.as_tensor(popularity_buckets(item_counts))
    tallies: dict[K, _Tally] = {}
    for histories, targets in _batches(eval_set, batch_size):
        with torch.no_grad():
            variants = scorer(histories)
        for key, raw in variants.items():
            scores = _checked(raw, len(histories), len(item_counts))
            if mask_history:
                mask_histories(scores, histories)
            tallies.setdefault(key, _Tally(buckets, lists)).add(scores, torch.as_tensor(targets, device=scores.device))
    return {key: tally.metrics(ks) for key, tally in tallies.items()}


def _batches(eval_set: EvalSet, batch_size: int) -> Iterator[tuple[list[np.ndarray], np.ndarray]]:
    """(histories, targets) batches; users of similar history length share a batch, so sequence models pad less
    (metrics are order-free)."""
    order = np.argsort([len(h) for h in eval_set.histories], kind="stable")
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        yield [eval_set.histories[u] for u in batch], eval_set.targets[batch]


def _checked(scores: torch.Tensor, users: int, width: int) -> torch.Tensor:
    """A float copy of a batch's scores with the padding column out; a wrong shape is an error."""
    if scores.shape != (users, width):
        raise ValueError(f"scorer returned shape {tuple(scores.shape)}, expected ({users}, {width})")
    scores = scores.float().clone()
    scores[:, 0] = -torch.inf
    return scores


def score_metrics(
    scores: torch.Tensor, targets: np.ndarray, item_counts: np.ndarray, ks: Sequence[int] = (10,), lists: bool = True
) -> dict[str, float]:
    """The metrics of one precomputed score matrix (column 0 is padding), e.g. a fusion of several models' scores."""
    tally = _Tally(torch.as_tensor(popularity_buckets(item_counts)), lists)
    scores = scores.float().clone()
    scores[:, 0] = -torch.inf
    tally.add(scores, torch.as_tensor(targets))
    return tally.metrics(ks)


class _Tally:
    """Target ranks and top-10 list figures under one protocol, accumulated batch by batch."""

    def __init__(self, buckets: torch.Tensor, lists: bool) -> None:
        self.buckets, self.lists = buckets, lists
        self.ranks: list[torch.Tensor] = []
        self.recommended = torch.zeros(len(buckets), dtype=torch.bool)
        self.exposure = torch.zeros(3, dtype=torch.long)

    def add(self, scores: torch.Tensor, targets: torch.Tensor) -> None:
        self.ranks.append(target_ranks(scores, targets).cpu())
        if self.lists:
            top = top_k(scores, min(EXPOSURE_K, scores.shape[1] - 1))
            top = top[scores.gather(1, top) > -torch.inf].cpu()  # padding and masked items are never listed
            self.recommended[top] = True
            self.exposure += torch.bincount(self.buckets[top], minlength=3)

    def metrics(self, ks: Sequence[int]) -> dict[str, float]:
        rank = torch.cat(self.ranks)
        metrics = rank_metrics(rank, ks)
        if self.lists:
            metrics[f"coverage@{EXPOSURE_K}"] = self.recommended[1:].double().mean().item()
            shares = self.exposure.double() / self.exposure.sum()
            for name, share in zip(("head", "torso", "tail"), shares.tolist()):
                metrics[f"exposure@{EXPOSURE_K}_{name}"] = share
        metrics["users"] = float(len(rank))
        return metrics


def rank_metrics(rank: torch.Tensor, ks: Sequence[int]) -> dict[str, float]:
    """Recall@K, NDCG@K and MRR from each user's 0-based target rank (one relevant item per user)."""
    rank = rank.double()
    metrics: dict[str, float] = {}
    for k in ks:
        hit = rank < k
        metrics[f"recall@{k}"] = hit.double().mean().item()
        metrics[f"ndcg@{k}"] = torch.where(hit, 1.0 / torch.log2(rank + 2.0), torch.zeros_like(rank)).mean().item()
    metrics["mrr"] = (1.0 / (rank + 1.0)).mean().item()
    return metrics


def ndcg_per_user(rank: torch.Tensor, k: int) -> np.ndarray:
    """Each user's NDCG@k from the 0-based target rank (one relevant item per user)."""
    rank = rank.double()
    return torch.where(rank < k, 1.0 / torch.log2(rank + 2.0), torch.zeros_like(rank)).numpy()


def relative_gain_interval(
    base: np.ndarray, other: np.ndarray, seed: int = 0, level: float = 0.95, resamples: int = 2000
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``mean(other) / mean(base) - 1``, resampling users in pairs (each user's
    two values stay together), so that a gain over a few hits shows how little it is resolved; None where ``base``
    is all zero (no gain is defined)."""
    if not base.any():
        return None

    def gain(b: np.ndarray, o: np.ndarray, axis: int) -> np.ndarray:
        return o.mean(axis=axis) / b.mean(axis=axis) - 1.0

    with np.errstate(divide="ignore", invalid="ignore"):  # a resample whose base never hits has an infinite gain
        return _paired_interval(base, other, gain, seed, level, resamples)


def difference_interval(
    base: np.ndarray, other: np.ndarray, seed: int = 0, level: float = 0.95, resamples: int = 10_000
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(other - base)``, resampling users in pairs."""

    def difference(b: np.ndarray, o: np.ndarray, axis: int) -> np.ndarray:
        return o.mean(axis=axis) - b.mean(axis=axis)

    return _paired_interval(base, other, difference, seed, level, resamples)


def _paired_interval(
    base: np.ndarray, other: np.ndarray, statistic: Callable[..., np.ndarray], seed: int, level: float, resamples: int
) -> tuple[float, float]:
    interval = stats.bootstrap(
        (base, other), statistic, paired=True, vectorized=True, confidence_level=level, n_resamples=resamples,
        method="percentile", random_state=seed,
    ).confidence_interval  # fmt: skip
    return float(interval.low), float(interval.high)


def item_counts(sequences: Sequence[np.ndarray], n_items: int) -> np.ndarray:
    """Interaction count per item index (index 0 = padding, always 0)."""
    flat = np.concatenate(sequences) if sequences else np.empty(0, dtype=np.int64)
    return np.bincount(flat, minlength=n_items + 1)
