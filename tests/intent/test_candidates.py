"""Tags by candidate scoring: the category prior's candidates, the LLM's score of each, and the hybrid fitted on the
validation cut-off, on a small shop whose next category follows the one before the last (which no first-order
prior sees) and a scripted scorer that knows each user's next category."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agenticrec.intent import artifacts
from agenticrec.intent.candidates import CUTOFFS, candidates, cut, run_hybrid, run_score, scoring_requests
from agenticrec.intent.items import leaf
from agenticrec.intent.stage import run_compress
from agenticrec.llm import LLMClient
from agenticrec.models.tar.config import TARConfig
from agenticrec.pipeline import RunConfig, load_config, train_and_evaluate
from agenticrec.testing.catalogues import files_catalogue

CATEGORIES = [f"Shop > {a}" for a in ("Apples", "Bread", "Cheese", "Dates", "Eggs", "Flour", "Grapes", "Honey")]
ANSWERS: dict[str, str] = {}  # user message -> the leaf of that user's next category


def scorer(messages: list[dict[str, str]], options: list[str]) -> list[float]:
    answer = ANSWERS.get(messages[-1]["content"])
    return [0.0 if option == answer else -3.0 for option in options]


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    raise AssertionError("candidate scoring never asks for text")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The shop's folder and its data overrides."""
    folder = tmp_path_factory.mktemp("shop")
    rng = random.Random(0)
    items = pd.DataFrame({
        "item_id": [f"i{k}" for k in range(24)],
        "title": [f"thing {k}" for k in range(24)],
        "category": [CATEGORIES[k // 3] for k in range(24)],
    })  # fmt: skip
    events = []
    for u in range(60):  # the next category is the one two steps back, shifted by one: lag 2, not lag 1
        walk = [rng.randrange(8), rng.randrange(8)]
        while len(walk) < 7:
            walk.append((walk[-2] + 1) % 8)
        events += [(f"u{u}", f"i{3 * c + rng.randrange(3)}") for c in walk]
    return folder, files_catalogue(folder, items, events, category_field="category")


@pytest.fixture(scope="module")
def config(shop: tuple[Path, list[str]]) -> RunConfig:
    folder, data = shop
    loaded = load_config(None, [*data, f"run_dir={folder / 'run'}", "seed=0", "intent.users=60",
                                "intent.candidates=6", "intent.hit_ks=[1,3]", "intent.tags=3"])  # fmt: skip
    llm = {"backends": {"script": {"kind": "scripted", "script": script, "scorer": scorer}},
           "default": {"backend": "script"}, "progress": False}  # fmt: skip
    return loaded.model_copy(update={"llm": loaded.llm.model_validate(llm)})


def test_priors_count_nothing_at_or_after_the_cut_off(config: RunConfig) -> None:
    dataset = config.data.load()
    users = pd.DataFrame({"user": dataset.user_ids, "user_index": range(dataset.n_users)})
    valid = cut(dataset, users, "valid")
    assert sum(valid.priors.transitions[c].total() for c in valid.priors.transitions) == dataset.n_users * (7 - 2 - 1)
    proposed = candidates(valid.priors, valid.categories[0], 6)
    assert len(proposed) == len(set(proposed)) == 6 and valid.categories[0][-1] == proposed[0]


def test_the_llm_score_adds_what_the_priors_miss(config: RunConfig) -> None:
    dataset, run_dir = config.data.load(), config.run_dir
    with LLMClient(config.llm, run_dir) as client:
        run_compress(dataset, config.intent, client, run_dir, config.seed)
        users = artifacts.read_table(run_dir, artifacts.HISTORIES)
        for name in CUTOFFS:
            at = cut(dataset, users, name)
            requests = scoring_requests(dataset, config.intent, client, at, users)
            ANSWERS.update({r[-1]["content"]: leaf(t) for r, t in zip(requests, at.targets)})
        without = run_hybrid(dataset, config.intent, run_dir, config.seed)["summary"]
        assert "hr1_hybrid" not in without and "hr1_part_llm" not in without
        scoring = run_score(dataset, config.intent, client, run_dir, config.seed)
    assert scoring["failed_users"] == 0 and scoring["scored"] == 60 * 2 * 6
    result = run_hybrid(dataset, config.intent, run_dir, config.seed)
    summary = result["summary"]
    recall = summary["candidate_recall"]
    assert summary["hr1_part_llm"] == pytest.approx(recall) and summary["hr1_hybrid"] == pytest.approx(recall)
    assert summary["hr1_hybrid_without_llm"] == without["hr1_hybrid_without_llm"] < recall - 0.2
    assert result["weights"]["hybrid"]["llm"] > 0
    written = json.loads((artifacts.intent_dir(run_dir) / artifacts.HYBRID).read_text())
    assert written["summary"] == summary
    assert summary["llm_top1_accuracy"] == pytest.approx(recall)


def test_the_simulated_llm_curve_says_how_good_an_llm_must_be(config: RunConfig) -> None:
    dataset, run_dir = config.data.load(), config.run_dir
    with LLMClient(config.llm, run_dir) as client:
        run_compress(dataset, config.intent, client, run_dir, config.seed)
    result = run_hybrid(dataset, config.intent, run_dir, config.seed)
    curve, summary = result["simulated"], result["summary"]
    assert curve["1.0"]["hr1"] == pytest.approx(summary["candidate_recall"])
    assert curve["0.2"]["hr1"] < curve["1.0"]["hr1"] - 0.3
    assert 0.2 <= summary["simulated_p_to_beat_baseline"] <= 1.0
    assert (artifacts.intent_dir(run_dir) / artifacts.SIMULATED_PLOT).stat().st_size > 1000


def test_tar_retrieves_with_each_hybrids_categories(config: RunConfig, shop: tuple[Path, list[str]]) -> None:
    """Part 5: the hybrids' best test categories, as TAR's tags, beside its own tags of the last items."""
    dataset, run_dir = config.data.load(), config.run_dir
    tar_run = shop[0] / "tar"
    overrides = [
        "seed=0",
        "train.epochs=60",
        "train.patience=60",
        "train.batch_size=32",
        "train.lr=0.01",
        "model.hidden_size=16",
        "model.mlp_size=16",
        "model.beta=0.0",
    ]
    train_and_evaluate(load_config(None, [*shop[1], f"run_dir={tar_run}", *overrides], model="tar"))
    with_tar = config.intent.model_copy(update={"tar_run": tar_run})
    summary = run_hybrid(dataset, with_tar, run_dir, config.seed)["summary"]
    predicted = artifacts.read_table(run_dir, artifacts.PREDICTED_CATEGORIES)
    assert set(predicted["hybrid"]) == {"hybrid", "hybrid_without_llm"} and set(predicted["held_out"]) == {1, 2}
    assert len(predicted) == 60 * 2 * 2 * 3
    assert predicted.groupby(["hybrid", "held_out", "user"])["rank"].max().eq(2).all()
    users = artifacts.read_table(run_dir, artifacts.HISTORIES)
    targets = dict(zip(users["user"], cut(dataset, users, "test").targets))
    first = predicted.query("hybrid == 'hybrid' and held_out == 1 and rank == 0")
    assert (first["category"] == first["user"].map(targets)).mean() == pytest.approx(summary["hr1_hybrid"])
    for source in ("hybrid", "hybrid_without_llm", "history_tags"):
        assert 0.0 <= summary[f"tar_ndcg10_{source}"] <= summary[f"tar_recall10_{source}"] <= 1.0
    assert summary["tar_beta"] == 0.0 and summary["tar_beta_hybrid"] in TARConfig().beta_grid
    assert 0.0 <= summary["tar_ndcg10_hybrid_tuned"] <= 1.0
    assert summary["tar_ndcg10_hybrid"] > summary["tar_ndcg10_history_tags"] + 0.1  # the tags reach the tower
