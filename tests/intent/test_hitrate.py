"""HR@K and the category baselines on a hand-computed example."""

from __future__ import annotations

from agenticrec.intent.hitrate import CategoryPriors, distinct, hit_at

HISTORIES = [["A", "B", "A", "C"], ["A", "B", "B"], ["C", "A", "B"]]


def test_popularity_and_transitions_are_counted_on_histories() -> None:
    priors = CategoryPriors.count(HISTORIES)
    assert priors.popular == ["A", "B", "C"]  # A 4, B 4 (first seen later), C 2
    # transitions out of A: A->B three times, A->C once; out of B: B->A once, B->B once
    assert priors.transition_scores("A") == {"B": 0.75, "C": 0.25}
    assert priors.transition_scores("B") == {"A": 0.5, "B": 0.5}


def test_baseline_rankings() -> None:
    priors = CategoryPriors.count(HISTORIES)
    assert priors.recent(["C", "B", "C"], 3) == ["C", "B", "A"]
    assert priors.transition(["C", "A"], 3) == ["B", "C", "A"]
    assert priors.transition([], 2) == ["A", "B"]


def test_hybrid_mixes_tag_votes_with_the_transition_prior() -> None:
    priors = CategoryPriors.count(HISTORIES)
    # votes: C 2/3, A 1/3; prior after A: B 0.75, C 0.25. Weight 0.5: C 0.458, B 0.375, A 0.167
    assert priors.hybrid(["C", "C", "A"], ["A"], 3, 0.5) == ["C", "B", "A"]
    # weight 1: the prior alone (B, C), then popularity fills (A)
    assert priors.hybrid(["C", "C", "A"], ["A"], 3, 1.0) == ["B", "C", "A"]
    # weight 0: the LLM votes alone, then popularity fills
    assert priors.hybrid(["C", "C", "A"], ["A"], 3, 0.0) == ["C", "A", "B"]


def test_hit_at_k() -> None:
    users = [(["A", "B", "C"], "B"), (["C", "A"], "B"), (["B"], "B")]
    assert [hit_at(r, t, 1) for r, t in users] == [False, False, True]
    assert sum(hit_at(r, t, 2) for r, t in users) / 3 == 2 / 3


def test_llm_categories_are_deduplicated_in_tag_order() -> None:
    assert distinct(["B", "A", "B", "C"]) == ["B", "A", "C"]
