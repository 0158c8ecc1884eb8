"""LaMAR's LLM ranker protocol with a scripted LLM: the 20+1 candidate builder, rank metrics, both ways of ranking
(option scores; a generated ranking constrained to the candidate numbers, completed where it leaves some out), and
baselines on the same candidate sets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agenticrec.augment import artifacts
from agenticrec.augment.config import RankerConfig
from agenticrec.augment.ranker import (
    candidate_sets,
    expected_random,
    llm_scores,
    metrics,
    ranks_from_scores,
    run_rank_llm,
)
from agenticrec.errors import AgenticRecError
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, load_config, train_and_evaluate
from agenticrec.testing.catalogues import successor_shop

N_ITEMS = 40


def successor(title: str) -> str:
    return f"tea {(int(title.split()[1]) + 1) % N_ITEMS}"


RECENT = "<<<DATA RECENT ITEMS"


def last_recent(user_content: str) -> str:
    recent = user_content.split(RECENT)[1]
    return re.findall(r"title: (tea \d+)", recent)[-1]


def shown(user_content: str) -> list[str]:
    return re.findall(r"^(\d+)\. title: (tea \d+)", user_content.split(RECENT)[0], re.MULTILINE)


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """Ranks the last item's successor first, gives it twice and leaves the last-shown candidate out."""
    user = messages[-1]["content"]
    numbers = {title: number for number, title in shown(user)}
    first = numbers[successor(last_recent(user))]
    rest = [n for n in numbers.values() if n != first][:-1]
    return json.dumps({"ranking": [int(first), int(first), *map(int, rest)]})


def scorer(messages: list[dict[str, str]], options: list[str]) -> list[float]:
    user = messages[-1]["content"]
    if "N/A" in user.split(RECENT)[1]:
        return [0.0] * len(options)  # content-free: no prior
    return [1.0 if option == successor(last_recent(user)) else -1.0 for option in options]


def shop(folder: Path) -> list[str]:
    """A 40-item shop whose 60 users walk through the items in order; the overrides that load it."""
    return successor_shop(folder, [f"tea {k}" for k in range(N_ITEMS)], users=60, steps=8)


@pytest.fixture()
def config(tmp_path: Path) -> RunConfig:
    return load_config(None, [*shop(tmp_path), f"run_dir={tmp_path / 'run'}", "augment.ranker.users=30"])


def with_llm(config: RunConfig, choice: str) -> RunConfig:
    config.llm = config.llm.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": script, "scorer": scorer}},
            "default": {"backend": "script", "choice": choice},
            "progress": False,
        }
    )
    return config


def test_candidate_sets_hold_the_true_item_once_among_fresh_items_and_are_seeded(config: RunConfig) -> None:
    test = config.data.load().split().stage("test")
    ranker = RankerConfig(users=30)
    sets = candidate_sets(test, N_ITEMS, ranker, seed=3)
    assert len(sets) == 30 and len({s.user for s in sets}) == 30
    for s in sets:
        assert len(s.candidates) == 21 and len(set(s.candidates.tolist())) == 21
        assert (s.candidates == s.target).sum() == 1 and s.target == test.targets[s.user]
        assert not set(s.candidates.tolist()) & set(test.histories[s.user].tolist())
        assert s.history.tolist() == test.histories[s.user][-5:].tolist()
    again = candidate_sets(test, N_ITEMS, ranker, seed=3)
    assert all((a.candidates == b.candidates).all() for a, b in zip(sets, again))
    other = candidate_sets(test, N_ITEMS, ranker, seed=4)
    assert any(a.user != b.user or (a.candidates != b.candidates).any() for a, b in zip(sets, other))
    fewer = candidate_sets(test, N_ITEMS, RankerConfig(users=10), seed=3)  # part of the larger sample, unchanged
    by_user = {s.user: s.candidates.tolist() for s in sets}
    assert all(by_user[s.user] == s.candidates.tolist() for s in fewer)
    assert len({s.position for s in sets}) > 5  # the true item is not always shown in the same place


def test_ranks_and_metrics_on_a_hand_made_case(config: RunConfig) -> None:
    test = config.data.load().split().stage("test")
    sets = candidate_sets(test, N_ITEMS, RankerConfig(users=2), seed=0)
    scores = np.zeros((2, 21))
    scores[0, sets[0].position] = 5.0  # first user: the true item on top
    scores[1] = np.arange(21, 0, -1)  # second user: shown order
    ranks = ranks_from_scores(sets, scores, np.random.default_rng(0))
    assert ranks.tolist() == [0, sets[1].position]
    m = metrics(np.array([0, 11]))
    assert m["recall@10"] == 0.5 and m["ndcg@10"] == 0.5 and m["mrr"] == pytest.approx((1 + 1 / 12) / 2)
    assert m["hit@1"] == 0.5
    expected = expected_random(21)  # ranks 1..21 equally likely
    assert expected["recall@10"] == pytest.approx(10 / 21) and expected["hit@1"] == pytest.approx(1 / 21)
    assert expected["ndcg@10"] == pytest.approx(sum(1 / np.log2(r + 1) for r in range(1, 11)) / 21)
    assert expected["mrr"] == pytest.approx(sum(1 / r for r in range(1, 22)) / 21)


@pytest.mark.parametrize("choice", ["generate", "calibrated"])
def test_the_llm_ranker_beside_random_and_popularity_on_the_same_candidates(config: RunConfig, choice: str) -> None:
    config = with_llm(config, choice)
    dataset = config.data.load()
    with LLMClient(config.llm, config.run_dir) as client:
        result = run_rank_llm(dataset, config.augment.ranker, client, config.run_dir, config.seed, {})
    assert result["methods"]["llm"]["hit@1"] == 1.0  # the scripted ranker knows the successor pattern
    assert result["methods"]["random"]["hit@1"] < 0.5
    assert set(result["methods"]) == {"llm", "random", "random-expected", "popularity"}
    assert result["llm_calls"] == {"failed": 0, "incomplete": 30 if choice == "generate" else 0}
    assert sum(row["users"] for row in result["llm_by_position"]) == 30
    ranks = pd.read_parquet(artifacts.augment_dir(config.run_dir) / artifacts.RANKS)
    assert len(ranks) == 30 and (ranks["rank_llm"] == 1).all() and ranks["rank_random"].between(1, 21).all()


def test_scored_answers_are_the_titles_first_words_kept_distinct(config: RunConfig) -> None:
    config = with_llm(config, "score")
    dataset = config.data.load()
    sets = candidate_sets(dataset.split().stage("test"), N_ITEMS, RankerConfig(users=2), seed=0)
    seen: list[list[str]] = []
    config.llm.backends["script"].scorer = lambda messages, options: seen.append(options) or [0.0] * len(options)
    with LLMClient(config.llm) as client:
        llm_scores(dataset, sets, client, words=1)
    assert len(seen) == 2
    for options in seen:  # every title is "tea N": one word leaves "tea", then "tea [item id]"
        assert options[0] == "tea" and all(o.startswith("tea [") for o in options[1:]) and len(set(options)) == 21


def test_a_trained_run_ranks_the_same_candidates(config: RunConfig, tmp_path: Path) -> None:
    config = with_llm(config, "calibrated")
    sasrec = load_config(None, [*shop(tmp_path), f"run_dir={tmp_path / 'sasrec'}", "train.epochs=3",
                                "model.hidden_size=16", "model.max_len=8"], model="sasrec-ce")  # fmt: skip
    train_and_evaluate(sasrec)
    dataset = config.data.load()
    with LLMClient(config.llm, config.run_dir) as client:
        result = run_rank_llm(dataset, config.augment.ranker, client, config.run_dir, 0, {"sasrec": sasrec.run_dir})
    assert 0.0 <= result["methods"]["sasrec"]["ndcg@10"] <= 1.0
    ranks = pd.read_parquet(artifacts.augment_dir(config.run_dir) / artifacts.RANKS)
    assert ranks["rank_sasrec"].between(1, 21).all()
    other = load_config(None, [f"run_dir={tmp_path / 'ml'}"], data="movielens-100k", model="popularity")
    train_and_evaluate(other)
    with LLMClient(config.llm, config.run_dir) as client, pytest.raises(AgenticRecError, match="not files"):
        run_rank_llm(dataset, config.augment.ranker, client, config.run_dir, 0, {"ml": other.run_dir})


def test_letter_answers_score_one_letter_per_candidate(config: RunConfig) -> None:
    config = with_llm(config, "calibrated")
    config.augment.ranker = RankerConfig(users=30, answer="letter")

    def by_letter(messages: list[dict[str, str]], options: list[str]) -> list[float]:
        user = messages[-1]["content"]
        if "N/A" in user.split(RECENT)[1]:
            return [0.0] * len(options)
        listed = dict(re.findall(r"^([A-Z])\. title: (tea \d+)", user.split(RECENT)[0], re.MULTILINE))
        return [1.0 if listed[option] == successor(last_recent(user)) else -1.0 for option in options]

    seen: list[list[str]] = []
    config.llm.backends["script"].scorer = lambda messages, options: (
        seen.append(options) or by_letter(messages, options)
    )
    with LLMClient(config.llm, config.run_dir) as client:
        result = run_rank_llm(config.data.load(), config.augment.ranker, client, config.run_dir, config.seed, {})
    assert result["methods"]["llm"]["hit@1"] == 1.0 and result["protocol"]["answer"] == "letter"
    assert all(options == list("ABCDEFGHIJKLMNOPQRSTU") for options in seen)
    with pytest.raises(ValueError, match="at most 26 candidates"):
        RankerConfig(negatives=30, answer="letter")
