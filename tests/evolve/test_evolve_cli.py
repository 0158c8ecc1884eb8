"""`agenticrec evolve run|resume|report` end to end on a tiny catalogue: real proxy trials through the pipeline,
the best config retrained at full fidelity, and a report of the study."""

from __future__ import annotations

import json

import pytest
from evolve_testkit import tiny_shop
from typer.testing import CliRunner

from agenticrec.cli import app


@pytest.mark.slow
def test_run_resume_and_report(tmp_path):
    run_dir = tmp_path / "evolve"
    settings = [
        *tiny_shop(tmp_path),
        "evolve.method=tpe",
        "evolve.trials=2",
        'evolve.proxy=["train.epochs=1", "model.hidden_size=8", "model.max_len=5", "evaluate.test=false", '
        '"data.users=30"]',
        'evolve.full=["train.epochs=2", "model.hidden_size=8", "model.max_len=5"]',
    ]
    args = ["evolve", "run", "--run-dir", str(run_dir), *[part for s in settings for part in ("--set", s)]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "evolve.json").read_text())
    [study] = report["studies"]
    assert study["complete"] == 2 and study["trials"][0]["source"] == "default"
    trial = json.loads((run_dir / "trials" / study["study"] / "0" / "metrics.json").read_text())
    assert "test" not in trial and trial["protocol"]["dataset_stats"]["users"] == 30  # a proxy: validation only
    best = report["best_full_fidelity"]
    assert best["params"] == study["best_params"] and 0 <= best["test"]["ndcg@10"] <= 1
    resumed = CliRunner().invoke(app, ["evolve", "resume", str(run_dir)])  # nothing left: no new trial
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((run_dir / "evolve.json").read_text())["studies"][0]["complete"] == 2
    assert CliRunner().invoke(app, ["evolve", "report", str(tmp_path)]).exit_code != 0  # not an evolve run
    assert "Trials of" in (run_dir / "report.html").read_text()

    # compositional evolution of the evolved agent (its best.json) with a trained popularity agent
    popularity = tmp_path / "popularity"
    trained = CliRunner().invoke(app, ["train", "--run-dir", str(popularity), "--model", "popularity",
                                       *[part for s in tiny_shop(tmp_path) for part in ("--set", s)]])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    composed_dir = tmp_path / "compose"
    agents = ["--agent", f"evolved={run_dir}", "--agent", f"popularity={popularity}"]
    composed = CliRunner().invoke(app, ["evolve", "compose", *agents, "--run-dir", str(composed_dir)])
    assert composed.exit_code == 0, composed.output
    result = json.loads((composed_dir / "compose.json").read_text())
    assert result["agents"]["evolved"] == best["run_dir"]  # an evolve run stands for its retrained best config
    assert set(result["options"]) == {"fusion", "selection", "routing"}
    chosen = max(result["options"], key=lambda k: result["options"][k]["valid_outer"])
    assert result["chosen"] == chosen and result["composed_test_ndcg10"] == result["options"][chosen]["test_ndcg10"]
    assert set(result["single_test_ndcg10"]) == {"evolved", "popularity"}
    assert "Routing table" in (composed_dir / "report.html").read_text()
    alone = CliRunner().invoke(
        app, ["evolve", "compose", "--agent", f"evolved={run_dir}", "--run-dir", str(tmp_path / "x")]
    )
    assert "at least two agents" in str(alone.exception)
    malformed = CliRunner().invoke(app, ["evolve", "compose", "--agent", "evolved", "--agent", f"p={popularity}"])
    assert "NAME=RUN_DIR, got evolved" in str(malformed.exception)
