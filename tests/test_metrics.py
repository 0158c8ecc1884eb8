"""Full-ranking metrics against hand-computed examples."""

import math

import numpy as np
import pytest
import torch

from agenticrec.data.dataset import EvalSet
from agenticrec.evaluate.ranking import (
    difference_interval,
    evaluate_protocols,
    evaluate_ranking,
    evaluate_variants,
    ndcg_per_user,
    popularity_buckets,
    rank_metrics,
    relative_gain_interval,
    target_ranks,
    top_k,
)


def fixed_scorer(table: list[list[float]]):
    scores = torch.tensor(table)

    def scorer(histories):
        return scores[: len(histories)]

    return scorer


def test_ranks_count_higher_scores_and_break_ties_by_index():
    scores = torch.tensor([[0.0, 0.5, 0.9, 0.5, 0.1], [0.0, 0.2, 0.2, 0.2, 0.2]])
    assert target_ranks(scores, torch.tensor([3, 3])).tolist() == [2, 2]
    assert top_k(scores, 3).tolist() == [[2, 1, 3], [1, 2, 3]]


def test_hand_computed_recall_ndcg_mrr():
    # 5 items (+ padding column 0). User 0's target ranks 1st, user 1's 3rd, user 2's 6th... of 5 -> 5th.
    table = [
        [9.0, 0.9, 0.1, 0.2, 0.3, 0.4],  # target 1 -> rank 0
        [9.0, 0.9, 0.8, 0.7, 0.1, 0.2],  # target 3 -> rank 2
        [9.0, 0.9, 0.8, 0.7, 0.6, 0.5],  # target 5 -> rank 4
    ]
    eval_set = EvalSet(histories=[np.array([2]), np.array([1]), np.array([1])], targets=np.array([1, 3, 5]))
    counts = np.array([0, 5, 4, 3, 2, 1])
    m = evaluate_ranking(fixed_scorer(table), eval_set, counts, ks=[1, 3, 5])
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@3"] == pytest.approx(2 / 3)
    assert m["recall@5"] == pytest.approx(1.0)
    assert m["ndcg@3"] == pytest.approx((1 + 1 / math.log2(4)) / 3)
    assert m["ndcg@5"] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(6)) / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 5) / 3)
    # padding column 0 scored 9.0 but is never ranked or recommended
    assert m["users"] == 3


def test_history_masking_removes_history_items():
    table = [[0.0, 0.9, 0.8, 0.1]]  # history item 1 outranks target 2 unless masked
    eval_set = EvalSet(histories=[np.array([1])], targets=np.array([2]))
    counts = np.array([0, 1, 1, 1])
    plain = evaluate_ranking(fixed_scorer(table), eval_set, counts, ks=[1])
    masked = evaluate_ranking(fixed_scorer(table), eval_set, counts, ks=[1], mask_history=True)
    assert plain["recall@1"] == 0.0
    assert masked["recall@1"] == 1.0


def test_both_protocols_from_one_pass_match_separate_evaluations():
    rng = np.random.default_rng(1)
    table = rng.random((40, 16)).tolist()
    histories = [rng.choice(np.arange(1, 16), size=rng.integers(1, 6), replace=False) for _ in range(40)]
    eval_set = EvalSet(histories=histories, targets=rng.integers(1, 16, 40))
    counts = rng.integers(1, 50, 16)
    calls = {"n": 0}

    def counted(histories):
        calls["n"] += 1
        return torch.tensor(table)[[int(h[0]) for h in histories]]  # rows keyed by each user's first item

    both = evaluate_protocols(counted, eval_set, counts, masks=(True, False), batch_size=16)
    assert calls["n"] == 3  # 40 users in batches of 16, scored once for both protocols
    for mask in (False, True):
        assert both[mask] == pytest.approx(evaluate_ranking(counted, eval_set, counts, mask_history=mask, batch_size=7))
    assert both[True]["recall@10"] != both[False]["recall@10"]


def test_variants_from_one_pass_match_separate_evaluations():
    rng = np.random.default_rng(2)
    first, second = torch.tensor(rng.random((40, 16))), torch.tensor(rng.random((40, 16)))
    histories = [rng.choice(np.arange(1, 16), size=rng.integers(1, 6), replace=False) for _ in range(40)]
    eval_set = EvalSet(histories=histories, targets=rng.integers(1, 16, 40))
    counts = rng.integers(1, 50, 16)

    def rows(table, histories):
        return table[[int(h[0]) for h in histories]]  # rows keyed by each user's first item

    def fused(weight):
        return lambda histories: weight * rows(first, histories) + (1 - weight) * rows(second, histories)

    swept = evaluate_variants(
        lambda hs: {w: fused(w)(hs) for w in (0.0, 0.5, 1.0)}, eval_set, counts, mask_history=True, batch_size=16
    )
    assert list(swept) == [0.0, 0.5, 1.0]
    for weight, metrics in swept.items():
        assert metrics == pytest.approx(evaluate_ranking(fused(weight), eval_set, counts, mask_history=True))
    assert swept[0.0]["ndcg@10"] != swept[1.0]["ndcg@10"]


def test_coverage_and_popularity_exposure():
    # 10 items: head = 2 most popular (items 1, 2), tail = 5 least popular (items 6..10), torso = 3, 4, 5
    counts = np.array([0, 100, 90, 50, 40, 30, 5, 4, 3, 2, 1])
    buckets = popularity_buckets(counts)
    assert buckets[1:].tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]
    # one user; scores make the top-10 list the whole catalogue
    scores = [[0.0] + [float(11 - i) for i in range(1, 11)]]
    eval_set = EvalSet(histories=[np.array([1])], targets=np.array([1]))
    m = evaluate_ranking(fixed_scorer(scores), eval_set, counts, ks=[10])
    assert m["coverage@10"] == pytest.approx(1.0)
    assert m["exposure@10_head"] == pytest.approx(0.2)
    assert m["exposure@10_torso"] == pytest.approx(0.3)
    assert m["exposure@10_tail"] == pytest.approx(0.5)


def test_batching_does_not_change_results():
    rng = np.random.default_rng(0)
    table = rng.random((37, 21)).tolist()
    eval_set = EvalSet(histories=[np.array([1])] * 37, targets=rng.integers(1, 21, 37))
    counts = rng.integers(0, 50, 21)
    counts[0] = 0
    whole = evaluate_ranking(fixed_scorer(table), eval_set, counts, batch_size=1000)
    scores = torch.tensor(table)
    offset = {"i": 0}

    def batched(histories):
        out = scores[offset["i"] : offset["i"] + len(histories)]
        offset["i"] += len(histories)
        return out

    chunked = evaluate_ranking(batched, eval_set, counts, batch_size=5)
    assert chunked == pytest.approx(whole)


def test_wrong_score_shape_is_an_error():
    eval_set = EvalSet(histories=[np.array([1])], targets=np.array([1]))
    with pytest.raises(ValueError, match="shape"):
        evaluate_ranking(fixed_scorer([[0.0, 1.0]]), eval_set, np.array([0, 1, 1]))


def test_per_user_ndcg_averages_to_the_reported_ndcg():
    ranks = torch.tensor([0, 3, 9, 10, 57])
    per_user = ndcg_per_user(ranks, 10)
    assert per_user.tolist() == pytest.approx([1.0, 1 / math.log2(5), 1 / math.log2(11), 0.0, 0.0])
    assert per_user.mean() == pytest.approx(rank_metrics(ranks, (10,))["ndcg@10"])


def test_the_gain_interval_is_paired_and_narrows_with_more_users():
    rng = np.random.default_rng(0)

    def sample(users: int) -> tuple[np.ndarray, np.ndarray]:  # the other list hits a little more often
        base = (rng.random(users) < 0.05).astype(float)
        return base, np.where(rng.random(users) < 0.5, base, (rng.random(users) < 0.08).astype(float))

    assert relative_gain_interval(*(lambda b: (b, 2 * b))(sample(300)[0])) == pytest.approx((1.0, 1.0))
    base, other = sample(300)
    low, high = relative_gain_interval(base, other)
    assert low < other.mean() / base.mean() - 1 < high
    wide, narrow = high - low, np.subtract(*relative_gain_interval(*sample(30_000))[::-1])
    assert narrow < wide / 4  # 100x the users: about a tenth of the width
    assert relative_gain_interval(np.zeros(10), other[:10]) is None  # no gain over a list that never hits


def test_the_difference_interval_is_paired():
    rng = np.random.default_rng(0)
    base = rng.random(300)
    assert difference_interval(base, base + 0.1) == pytest.approx((0.1, 0.1))  # pairs kept: no spread at all
    other = base + rng.normal(0.05, 0.2, 300)
    low, high = difference_interval(base, other)
    assert low < (other - base).mean() < high and high - low < 0.1
