"""The router: class-balanced logistic regression, and rebalancing to the labelled shares."""

import numpy as np
import pytest

from agenticrec.tagger.classifier import fit_predict, rebalance


def test_rebalanced_columns_follow_the_shares_and_rows_stay_distributions():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([5, 1, 1], size=300)  # the first class dominates
    out = rebalance(proba, np.array([1.0, 1.0, 2.0]))
    assert out.sum(1) == pytest.approx(np.ones(300))
    assert out.sum(0) == pytest.approx([75, 75, 150], rel=1e-3)


def test_shares_stop_the_majority_from_swallowing_the_queries():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 1, (40, 4)), rng.normal(0.4, 1, (10, 4))])  # two overlapping classes
    y = np.array([0] * 40 + [1] * 10)
    queries = np.vstack([rng.normal(0, 1, (100, 4)), rng.normal(0.4, 1, (100, 4))])
    plain, _ = fit_predict(x, y, queries)
    followed, confidence = fit_predict(x, y, queries, shares=np.array([0.5, 0.5]))
    assert abs((followed == 1).mean() - 0.5) < 0.05 and abs((plain == 1).mean() - 0.5) > 0.05
    assert ((confidence > 0) & (confidence <= 1)).all()
