"""Compositional evolution on hand-made score tables: normalisation, weighted fusion, RRF, agent selection, and
routing on a synthetic two-segment case where each segment is best served by a different agent."""

from __future__ import annotations

import numpy as np
import pytest

from agenticrec.evolve.compose import (
    Fusion,
    Segmenter,
    best_fusion,
    normalise,
    outer_reward,
    route,
    rrf,
    select_agents,
    system_from_record,
    system_record,
)

INF = np.inf


def test_normalisation_and_rrf_on_a_hand_made_table():
    scores = np.array([[-INF, 2.0, 4.0, -INF, 0.0]])
    assert normalise(scores, "minmax").tolist() == [[0.0, 0.5, 1.0, 0.0, 0.0]]
    z = normalise(scores, "zscore")[0]
    assert z[2] == pytest.approx(1.2247, abs=1e-4) and z[0] == z[3] == z[4]  # unscored items get the minimum
    assert rrf(scores, k=60)[0].tolist() == pytest.approx([0, 1 / 62, 1 / 61, 0, 1 / 63])


def test_weighted_fusion_and_rrf_combine_two_agents():
    a = np.array([[-INF, 1.0, 0.0, 0.5]])
    b = np.array([[-INF, 0.0, 1.0, 0.9]])
    half = Fusion(("a", "b"), (0.5, 0.5)).apply({"a": a, "b": b})
    assert half[0, 0] == -INF and np.argmax(half[0]) == 3  # item 3 is second for both: best on average
    only_a = Fusion(("a", "b"), (1.0, 0.0)).apply({"a": a, "b": b})
    assert np.argmax(only_a[0]) == 1
    fused_rrf = Fusion(("a", "b"), (1.0, 1.0), method="rrf").apply({"a": a, "b": b})
    # ranks: a = (1, 3, 2) and b = (3, 1, 2) for items 1-3; RRF favours a first place over two second places
    assert fused_rrf[0, 1:].tolist() == pytest.approx([1 / 61 + 1 / 63, 1 / 63 + 1 / 61, 2 / 62])


def two_segments(n: int = 40):
    """Users 0..19 ('short') want item 1, which agent a ranks first; users 20..39 ('long') want item 2, b's first."""
    a = np.tile([-INF, 3.0, 1.0, 2.0], (n, 1))
    b = np.tile([-INF, 1.0, 3.0, 2.0], (n, 1))
    noise = np.tile([-INF, 0.0, 0.0, 1.0], (n, 1))  # ranks item 3, which nobody wants, first
    targets = np.array([1] * (n // 2) + [2] * (n // 2))
    histories = [np.array([3])] * (n // 2) + [np.array([3, 3, 3])] * (n // 2)
    reward = outer_reward(histories, targets, np.array([0, 5, 5, 5]), tail_weight=0.0, mask_history=False)
    return {"a": a, "b": b, "noise": noise}, targets, histories, reward


def test_routing_sends_each_segment_to_its_best_agent():
    scores, targets, histories, reward = two_segments()
    counts = np.array([0, 5, 5, 5])
    segmenter = Segmenter.fit(histories, counts, by="length")
    options = [Fusion((name,), (1.0,)) for name in scores]
    routing = route(scores, histories, counts, segmenter, reward, options)
    assert routing.segments["short"].agents == ("a",) and routing.segments["long"].agents == ("b",)
    everyone = np.arange(len(targets))
    routed = reward(routing.apply(scores, histories, counts), everyone)
    single_best = max(reward(scores[name], everyone) for name in scores)
    assert routed == pytest.approx(1.0) and single_best < 0.85
    assert routing.agents == ("a", "b")
    read_back = system_from_record(system_record(routing))  # as compose.json stores it for serving
    assert read_back == routing
    one_long_user = read_back.apply({n: s[-1:] for n, s in scores.items()}, histories[-1:], counts)
    assert np.argmax(one_long_user[0]) == 2  # a lone request is segmented by the fitted median, not its own


def test_agent_selection_drops_an_agent_that_adds_nothing():
    scores, _, _, reward = two_segments()
    fusion, value, dropped = select_agents({"a": scores["a"], "noise": scores["noise"]}, reward, steps=4)
    assert dropped == ["noise"] and fusion.agents == ("a",) and value == pytest.approx(0.75)
    best, best_value = best_fusion(scores, reward, ("a", "b"), steps=4)
    assert best_value == pytest.approx(reward(best.apply(scores), np.arange(40)))


def test_segments_split_by_history_length_and_taste():
    counts = np.array([0, 100, 1, 50])
    histories = [np.array([1]), np.array([2]), np.array([1, 2, 3]), np.array([2, 2, 2])]
    segmenter = Segmenter.fit(histories, counts)
    assert segmenter(histories, counts).tolist() == ["short-popular", "short-niche", "long-popular", "long-niche"]
    assert segmenter([np.array([1, 1, 1, 1])], counts).tolist() == ["long-popular"]
    fusion = Fusion(("a", "b"), (0.3, 0.7), method="rrf")
    assert system_from_record(system_record(fusion)) == fusion
