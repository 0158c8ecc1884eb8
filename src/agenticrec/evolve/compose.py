"""Compositional evolution on validation, with the outer reward: fusion of retrieval agents (weighted scores after
per-user normalisation, or reciprocal rank fusion), agent-set selection (drop an agent whose removal does not lower
the reward), and routing by user segment to the best agent or fusion per segment."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from agenticrec.evaluate import mask_histories, score_metrics

Scores = np.ndarray  # (users, n_items + 1): an agent's scores, -inf where it ranks nothing (column 0: padding)
Reward = Callable[[Scores, np.ndarray], float]  # (fused scores of some users, their user rows) -> outer reward
RRF_K = 60
Method = Literal["weighted", "rrf"]
Normalisation = Literal["minmax", "zscore", "rank"]
SegmentBy = Literal["length", "taste", "length-taste"]


def outer_reward(
    histories: list[np.ndarray], targets: np.ndarray, item_counts: np.ndarray, tail_weight: float, mask_history: bool
) -> Reward:
    """The system reward of fused scores on some evaluation users: NDCG@10 + lambda * tail exposure@10."""

    def reward(fused: Scores, rows: np.ndarray) -> float:
        scores = torch.as_tensor(fused, dtype=torch.float32).clone()
        if mask_history:
            mask_histories(scores, [histories[r] for r in rows])
        metrics = score_metrics(scores, targets[rows], item_counts, lists=tail_weight > 0)
        return metrics["ndcg@10"] + tail_weight * metrics.get("exposure@10_tail", 0.0)

    return reward


def normalise(scores: Scores, how: Normalisation) -> Scores:
    """Per-user normalisation over the finite scores; unscored items get the user's minimum (0 for min-max)."""
    finite = np.isfinite(scores)
    masked = np.where(finite, scores, np.nan)
    if how == "rank":
        return rrf(scores, k=0)
    if how == "minmax":
        low, high = np.nanmin(masked, axis=1, keepdims=True), np.nanmax(masked, axis=1, keepdims=True)
        out = (masked - low) / np.where(high > low, high - low, 1.0)
    else:
        mean, std = np.nanmean(masked, axis=1, keepdims=True), np.nanstd(masked, axis=1, keepdims=True)
        out = (masked - mean) / np.where(std > 0, std, 1.0)
    floor = np.nanmin(out, axis=1, keepdims=True)
    return np.where(finite, out, floor)


def rrf(scores: Scores, k: int = RRF_K) -> Scores:
    """Reciprocal-rank contributions 1 / (k + rank), rank 1 for each user's best item; 0 for unscored items."""
    order = np.argsort(-np.where(np.isfinite(scores), scores, -np.inf), axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, scores.shape[1] + 1)
    return np.where(np.isfinite(scores), 1.0 / (k + ranks), 0.0)


@dataclass(frozen=True)
class Fusion:
    """A fusion of agents: ``weights`` over ``agents``; method ``weighted`` (normalised scores) or ``rrf``."""

    agents: tuple[str, ...]
    weights: tuple[float, ...]
    method: Method = "weighted"
    normalisation: Normalisation = "minmax"

    def apply(self, scores: dict[str, Scores], users: np.ndarray | slice = slice(None)) -> Scores:
        return self.combine([self.contribution(scores[a][users]) for a in self.agents])

    def contribution(self, scores: Scores) -> Scores:
        """One agent's scores on the common scale of this fusion (before weighting)."""
        return rrf(scores) if self.method == "rrf" else normalise(scores, self.normalisation)

    def combine(self, contributions: list[Scores]) -> Scores:
        """The weighted sum of the agents' contributions (in ``agents`` order); column 0 stays padding."""
        fused = np.sum([w * part for w, part in zip(self.weights, contributions)], axis=0)
        fused[:, 0] = -np.inf
        return fused

    def label(self) -> str:
        inside = ", ".join(f"{a} {w:.2f}" for a, w in zip(self.agents, self.weights))
        return f"{self.method}({inside})" if self.method == "rrf" else f"weighted {self.normalisation}({inside})"


def weight_grid(n: int, steps: int) -> list[tuple[float, ...]]:
    """Weight vectors on the simplex with ``steps`` increments (each agent at least one step)."""
    return [
        tuple(c / steps for c in combo)
        for combo in itertools.product(range(1, steps + 1), repeat=n)
        if sum(combo) == steps
    ]


def best_fusion(
    scores: dict[str, Scores],
    reward: Reward,
    agents: tuple[str, ...] | None = None,
    steps: int = 10,
    variants: list[tuple[Method, Normalisation]] | None = None,
) -> tuple[Fusion, float]:
    """The best fusion over ``agents`` on validation by the outer reward: each weighted variant searched over the
    weight grid, RRF with equal weights. ``variants`` default: weighted min-max and RRF."""
    agents = agents or tuple(scores)
    users = np.arange(next(iter(scores.values())).shape[0])
    candidates = []
    for method, normalisation in variants or [("weighted", "minmax"), ("rrf", "minmax")]:
        if method == "rrf":
            candidates.append(Fusion(agents, tuple(1.0 for _ in agents), method="rrf"))
        else:
            grid = weight_grid(len(agents), steps if len(agents) > 1 else 1)
            candidates += [Fusion(agents, w, normalisation=normalisation) for w in grid]
    contributions: dict[tuple[str, str, str], Scores] = {}  # each agent on each scale, computed once

    def contribution(fusion: Fusion, agent: str) -> Scores:
        key = (agent, fusion.method, fusion.normalisation)
        if key not in contributions:
            contributions[key] = fusion.contribution(scores[agent])
        return contributions[key]

    rated = [(f, reward(f.combine([contribution(f, a) for a in f.agents]), users)) for f in candidates]
    return max(rated, key=lambda pair: pair[1])


def select_agents(
    scores: dict[str, Scores],
    reward: Reward,
    steps: int = 10,
    variants: list[tuple[Method, Normalisation]] | None = None,
) -> tuple[Fusion, float, list[str]]:
    """Backward elimination: drop an agent while the best fusion without it scores at least as well."""
    agents = tuple(scores)
    fusion, best = best_fusion(scores, reward, agents, steps, variants)
    dropped: list[str] = []
    while len(agents) > 1:
        trials = [
            (a, *best_fusion(scores, reward, tuple(x for x in agents if x != a), steps, variants)) for a in agents
        ]
        agent, candidate, value = max(trials, key=lambda t: t[2])
        if value < best:
            break
        agents = tuple(x for x in agents if x != agent)
        fusion, best = candidate, value
        dropped.append(agent)
    return fusion, best, dropped


@dataclass(frozen=True)
class Segmenter:
    """User segments by history length (short/long) and taste (popular/niche: the mean training popularity of the
    user's items), or both (e.g. ``short-niche``), split at the medians of the users it was fitted on, so that the
    validation users that decide a routing, the test users and a served request are segmented alike."""

    by: SegmentBy
    length_median: float
    taste_median: float

    @classmethod
    def fit(cls, histories: list[np.ndarray], item_counts: np.ndarray, by: SegmentBy = "length-taste") -> Segmenter:
        lengths, taste = _length_and_taste(histories, item_counts)
        return cls(by, float(np.median(lengths)), float(np.median(taste)))

    def __call__(self, histories: list[np.ndarray], item_counts: np.ndarray) -> np.ndarray:
        lengths, taste = _length_and_taste(histories, item_counts)
        length_label = np.where(lengths <= self.length_median, "short", "long")
        taste_label = np.where(taste >= self.taste_median, "popular", "niche")
        if self.by == "length":
            return length_label
        if self.by == "taste":
            return taste_label
        return np.char.add(np.char.add(length_label, "-"), taste_label)


def _length_and_taste(histories: list[np.ndarray], item_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(h) for h in histories])
    taste = np.array([item_counts[h].mean() if len(h) else 0.0 for h in histories])
    return lengths, taste


@dataclass
class Routing:
    """Each user segment served by its own fusion (a single agent is a fusion of one)."""

    segmenter: Segmenter
    segments: dict[str, Fusion] = field(default_factory=dict)
    rewards: dict[str, float] = field(default_factory=dict)

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(sorted({a for fusion in self.segments.values() for a in fusion.agents}))

    def apply(self, scores: dict[str, Scores], histories: list[np.ndarray], item_counts: np.ndarray) -> Scores:
        """The routed scores of the users with ``histories`` (the rows of ``scores``)."""
        segment_of = self.segmenter(histories, item_counts)
        out = np.full((len(histories), next(iter(scores.values())).shape[1]), -np.inf)
        for name, fusion in self.segments.items():
            rows = np.flatnonzero(segment_of == name)
            if rows.size:
                out[rows] = fusion.apply(scores, rows)
        return out


def route(
    scores: dict[str, Scores],
    histories: list[np.ndarray],
    item_counts: np.ndarray,
    segmenter: Segmenter,
    reward: Reward,
    options: list[Fusion],
) -> Routing:
    """Per segment, the option (single agents and fusions) with the best outer reward on that segment's users."""
    routing = Routing(segmenter)
    segment_of = segmenter(histories, item_counts)
    for name in sorted(set(segment_of.tolist())):
        rows = np.flatnonzero(segment_of == name)
        rated = [(option, reward(option.apply(scores, rows), rows)) for option in options]
        routing.segments[name], routing.rewards[name] = max(rated, key=lambda pair: pair[1])
    return routing


System = Fusion | Routing
"""What a composition serves: one fusion of agents (a selection is a fusion too), or a routing."""


def system_record(system: System) -> dict[str, Any]:
    """``system`` as JSON-ready data, read back by ``system_from_record``."""
    if isinstance(system, Fusion):
        return {"fusion": asdict(system)}
    return {
        "routing": {
            "segmenter": asdict(system.segmenter),
            "segments": {name: asdict(f) for name, f in system.segments.items()},
            "rewards": system.rewards,
        }
    }


def system_from_record(record: dict[str, Any]) -> System:
    def fusion(data: dict[str, Any]) -> Fusion:
        return Fusion(tuple(data["agents"]), tuple(data["weights"]), data["method"], data["normalisation"])

    if "fusion" in record:
        return fusion(record["fusion"])
    routing = record["routing"]
    return Routing(
        Segmenter(**routing["segmenter"]),
        {name: fusion(f) for name, f in routing["segments"].items()},
        dict(routing["rewards"]),
    )
