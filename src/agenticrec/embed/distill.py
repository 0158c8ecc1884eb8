"""Distill: K-medoids over item embeddings picks k representative, mutually diverse items."""

from __future__ import annotations

import numpy as np


def kmedoids_indices(embeddings: np.ndarray, k: int, *, seed: int = 0, max_points: int = 5000) -> np.ndarray:
    """Row indices of ``k`` medoids under cosine distance (FasterPAM from the ``kmedoids`` package).

    Above ``max_points`` rows a seeded random subsample is clustered, keeping the distance matrix in memory
    bounds (5,000 points = 100 MB). Returns all rows when ``k`` is at least their number.
    """
    n = len(embeddings)
    if k >= n:
        return np.arange(n)
    import kmedoids

    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(n, max_points, replace=False)) if n > max_points else np.arange(n)
    unit = embeddings[pool] / np.maximum(np.linalg.norm(embeddings[pool], axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0).astype(np.float64)
    result = kmedoids.fasterpam(distances, k, random_state=seed)
    return pool[np.sort(np.asarray(result.medoids))]


def kmedoids_groups(embeddings: np.ndarray, k: int, *, seed: int = 0) -> list[np.ndarray]:
    """Row indices grouped around ``k`` medoids (`kmedoids_indices`) by the nearest one, each group ordered by
    similarity to its medoid, nearest first; one group per medoid, in the medoids' order."""
    medoids = kmedoids_indices(embeddings, k, seed=seed)
    similarity = embeddings @ embeddings[medoids].T
    nearest = np.argmax(similarity, axis=1)
    groups = []
    for c in range(len(medoids)):
        members = np.flatnonzero(nearest == c)
        groups.append(members[np.argsort(-similarity[members, c], kind="stable")])
    return groups
