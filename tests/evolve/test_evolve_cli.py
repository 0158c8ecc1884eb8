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
        'evolve.proxy=["train.epochs=1", "model.hidden_size=8", "model.max_len=5"]',
        'evolve.full=["train.epochs=2", "model.hidden_size=8", "model.max_len=5"]',
    ]
    args = ["evolve", "run", "--run-dir", str(run_dir), *[part for s in settings for part in ("--set", s)]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "evolve.json").read_text())
    [study] = report["studies"]
    assert study["complete"] == 2 and study["trials"][0]["source"] == "default"
    best = report["best_full_fidelity"]
    assert best["params"] == study["best_params"] and 0 <= best["test"]["ndcg@10"] <= 1
    resumed = CliRunner().invoke(app, ["evolve", "resume", str(run_dir)])  # nothing left: no new trial
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((run_dir / "evolve.json").read_text())["studies"][0]["complete"] == 2
    assert CliRunner().invoke(app, ["evolve", "report", str(tmp_path)]).exit_code != 0  # not an evolve run
