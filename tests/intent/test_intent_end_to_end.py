"""The intent stage end to end on MovieLens-100k with a scripted LLM: compress, mine, tags, evaluate, judge, curate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agenticrec.errors import ConfigError
from agenticrec.intent import artifacts
from agenticrec.intent.defects import VAGUE_INTERESTS
from agenticrec.intent.judging import AGREEMENT, judge_dir, recalibrate, run_curate, run_judge
from agenticrec.intent.report import write_report
from agenticrec.intent.retrieval import tar_with_predicted_tags
from agenticrec.intent.stage import run_compress, run_evaluate, run_mine, run_tags
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, load_config, train_and_evaluate

FARGO = "Fargo · Crime Drama Thriller"  # the short form of MovieLens item 100
DEFECT_MARKERS = ("Love of", *VAGUE_INTERESTS, "warranty", "waterproof", "vegan", "honestly")


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    system, user = messages[0]["content"], messages[-1]["content"]
    if "user-interest analyst" in system:
        refs = [int(n) for n in re.findall(r"\[(\d+)\]", user)]
        genres = re.findall(r"· ([A-Z][a-z]+)", user)
        interests = [
            {"name": f"{genre} films", "rationale": "seen often", "evidence": [refs[k], 999]}
            for k, genre in enumerate(dict.fromkeys(genres))
        ][:4]
        return json.dumps({"interests": interests or [{"name": "Films", "rationale": "r", "evidence": [1]}]})
    if "predict what a shopper" in system:
        return "\n".join(["1. Comedy", "- Drama", '"Thriller"', "Action", "Romance", FARGO])
    raise AssertionError(f"unexpected prompt: {system[:80]}")


def scorer(messages: list[dict[str, str]], options: list[str]) -> list[float]:
    """The judge says no to the planted defects it can spot by eye, yes otherwise."""
    user = messages[-1]["content"]
    defect = any(marker in user for marker in DEFECT_MARKERS)
    return [-2.0 if (option == "yes") == defect else -0.5 for option in options]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> RunConfig:
    run_dir = tmp_path_factory.mktemp("intent") / "run"
    return load_config(
        None,
        [
            f"run_dir={run_dir}",
            "seed=0",
            "intent.users=25",
            "judge.cases_per_criterion=6",
            "llm.progress=false",
            "llm.retry.max_attempts=1",
        ],
        data="movielens-100k",
    ).model_copy(
        update={
            "llm": load_config(None, []).llm.model_validate(
                {
                    "backends": {"script": {"kind": "scripted", "script": script, "scorer": scorer}},
                    "default": {"backend": "script", "choice": "score"},
                    "roles": {"tag_predictor": {"backend": "script", "choice": "generate"}},
                    "progress": False,
                }
            )
        }
    )


def test_intent_stage_end_to_end(config: RunConfig) -> None:
    dataset = config.data.load()
    run_dir = config.run_dir
    with LLMClient(config.llm, run_dir) as client:
        compression = run_compress(dataset, config.intent, client, run_dir, config.seed)
        mining = run_mine(dataset, config.intent, client, run_dir, config.seed)
        tagging = run_tags(dataset, config.intent, client, run_dir, config.seed)
    assert compression["users"] == 25
    assert compression["token_counter"].startswith("estimate")  # the scripted model has no tokenizer
    assert compression["tokens_after_mean"] < compression["tokens_before_mean"]

    interests = artifacts.read_table(run_dir, artifacts.INTERESTS)
    histories = artifacts.read_table(run_dir, artifacts.HISTORIES)
    own = {
        user: {dataset.item_ids()[i - 1] for i in dataset.sequences[index][:-1]}
        for user, index in zip(histories["user"], histories["user_index"])
    }
    assert len(interests) > 0
    assert all(e in own[u] for u, ev in zip(interests["user"], interests["evidence"]) for e in ev)
    assert mining["evidence_valid_share"] == 1.0
    assert mining["repaired_interests"] == len(interests)  # every scripted interest cites the invalid [999]

    tags = artifacts.read_table(run_dir, artifacts.TAGS)
    seen_fargo = {u for u, items in own.items() if "100" in items}
    assert 0 < len(seen_fargo) < 25
    tagged = set(tags.loc[tags["tag"] == FARGO, "user"])
    assert tagged == set(own) - seen_fargo  # a tag that copies a history item is removed
    assert tagging["tags_removed"] == len(seen_fargo)

    summary = run_evaluate(dataset, config.intent, run_dir, config.seed)["summary"]
    assert summary["users_evaluated"] == 25
    for method in ("llm", "popular", "recent", "transition", "hybrid"):
        assert 0.0 <= summary[f"hr10_{method}"] <= summary[f"hr30_{method}"] <= 1.0

    with LLMClient(config.llm, run_dir) as client:
        judged = run_judge(dataset, config.intent, config.judge, client, run_dir, config.seed)
        curated = run_curate(dataset, config.intent, config.judge, client, run_dir, config.seed, users=5)
    assert (judge_dir(run_dir) / AGREEMENT).is_file()
    criteria = judged["criteria"]
    assert {"interest.specific", "interest.not_duplicate", "tag.not_title", "explanation.concise"} <= set(criteria)
    # the scripted judge catches the vague, duplicated, invented and padded defects exactly
    for name in ("interest.specific", "interest.not_duplicate", "explanation.no_invented_attributes"):
        assert criteria[name]["kappa"] == pytest.approx(1.0), name
    cases = pd.read_parquet(judge_dir(run_dir) / "cases.parquet")
    per_label = cases.groupby(["criterion", "label"]).size()  # half of 6 each, skipping rows that make no defect
    assert per_label.eq(3).all() and len(per_label) == 2 * cases["criterion"].nunique()
    assert cases["log_odds"].notna().all()  # read back from the ledger: the judge chose by these scores
    # 6 cases per criterion are far too few labels to calibrate on: every criterion says so instead of a kappa
    assert all("fewer than 20 labels" in m["refused"] for m in judged["calibrated"].values())
    assert judged["summary"]["judge_criteria_refused"] == len(judged["calibrated"])
    assert recalibrate(run_dir, config.seed)["calibrated"] == judged["calibrated"]  # from the stored cases, no LLM

    records = [
        json.loads(line) for line in (artifacts.intent_dir(run_dir) / artifacts.CURATED).read_text().splitlines()
    ]
    assert curated["samples"] == len(records) > 0
    per_category = pd.DataFrame(records).groupby(["user", "category"]).size()
    assert per_category.max() <= config.intent.max_per_category

    report = write_report(dataset, config.intent, run_dir).read_text()
    assert "Example users" in report and "HR@30" in report and "Judge agreement" in report


def test_evaluate_before_tags_names_the_missing_step(tmp_path: Path) -> None:
    from agenticrec.errors import AgenticRecError

    config = load_config(None, [f"run_dir={tmp_path}"], data="movielens-100k")
    with pytest.raises(AgenticRecError, match="agenticrec intent compress"):
        run_evaluate(config.data.load(), config.intent, tmp_path, 0)


def test_tar_retrieves_with_the_predicted_tags(config: RunConfig) -> None:
    """Part 1 into part 2 (after the end-to-end test wrote the tags): TAR with the predicted tags as its input."""
    dataset, run_dir = config.data.load(), config.run_dir
    tar_run = run_dir.parent / "tar"
    tar_config = load_config(None, [f"run_dir={tar_run}", "seed=0", "train.epochs=1", "model.hidden_size=16",
                                    "model.mlp_size=16"], data="movielens-100k", model="tar")  # fmt: skip
    train_and_evaluate(tar_config)
    with_tar = config.intent.model_copy(update={"tar_run": tar_run})
    evaluation = run_evaluate(dataset, with_tar, run_dir, config.seed)
    summary = evaluation["summary"]
    for source in ("predicted_tags", "history_tags"):
        assert 0.0 <= summary[f"tar_ndcg10_{source}"] <= summary[f"tar_recall10_{source}"] <= 1.0
    assert summary["tar_ndcg10_predicted_tags"] != summary["tar_ndcg10_history_tags"]  # the tags reach the tower
    assert all(len(example["recommended"]) == 5 for example in evaluation["examples"])
    report = write_report(dataset, with_tar, run_dir).read_text()
    assert "TAR retrieval with the predicted tags" in report and "TAR with these tags" in report
    popularity = run_dir.parent / "popularity"
    train_and_evaluate(load_config(None, [f"run_dir={popularity}"], data="movielens-100k", model="popularity"))
    with pytest.raises(ConfigError, match="not a TAR run"):
        tar_with_predicted_tags(dataset, popularity, [0], [["Comedy"]])
