"""The light classifier that spreads LLM labels to unlabelled items: logistic regression on item embeddings.

Classes are weighted inversely to their frequency, so a child that happens to hold most of a small labelled
sample does not swallow the unlabelled items as well (the majority-amplification failure). Where the routed
shares still drift from the labelled ones, `shares` rebalances the probabilities to given class shares
(Sinkhorn scaling of the probability matrix) before the argmax.
"""

from __future__ import annotations

import numpy as np

SINKHORN_ITERATIONS = 50


def fit_predict(
    x: np.ndarray, y: np.ndarray, queries: np.ndarray, shares: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Train on (x, y) and return the predicted label and its probability for each query row.

    `shares` (one per distinct label in `y`, sorted) makes the predicted labels follow those shares over the
    queries. With a single class in `y` every query gets that class with probability 1.
    """
    classes = np.unique(y)
    if len(classes) == 1:
        return np.full(len(queries), classes[0]), np.ones(len(queries))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=1000, class_weight="balanced").fit(x, y)
    proba = model.predict_proba(queries)
    if shares is not None:
        proba = rebalance(proba, shares)
    return model.classes_[proba.argmax(1)], proba.max(1)


def rebalance(proba: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Scale the columns of `proba` (rows: queries) so that their sums follow `shares`, keeping rows normalised."""
    target = np.asarray(shares, dtype=float) / max(float(np.sum(shares)), 1e-12) * len(proba)
    scaled = np.clip(proba, 1e-12, None)
    for _ in range(SINKHORN_ITERATIONS):
        scaled = scaled * (target / scaled.sum(0))
        scaled = scaled / scaled.sum(1, keepdims=True)
    return scaled
