"""The light classifier that spreads LLM labels to unlabelled items: logistic regression on item embeddings.

Classes are weighted inversely to their frequency, so a child that happens to hold most of a small labelled
sample does not swallow the unlabelled items as well (the majority-amplification failure).
"""

from __future__ import annotations

import numpy as np


def fit_predict(x: np.ndarray, y: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train on (x, y) and return the predicted label and its probability for each query row.

    With a single class in `y` every query gets that class with probability 1.
    """
    classes = np.unique(y)
    if len(classes) == 1:
        return np.full(len(queries), classes[0]), np.ones(len(queries))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=1000, class_weight="balanced").fit(x, y)
    proba = model.predict_proba(queries)
    return model.classes_[proba.argmax(1)], proba.max(1)
