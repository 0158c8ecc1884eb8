"""The quality and cost report, and the `agenticrec tag` commands end to end on the toy catalogue."""

from __future__ import annotations

import json

import pytest
from tagger_testkit import TaggerScript, run_config, write_yaml_config
from typer.testing import CliRunner

from agenticrec.cli import app
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline.stages import tag_assign as run_assign
from agenticrec.pipeline.stages import tag_build as run_build
from agenticrec.tagger import artifacts
from agenticrec.tagger.report import compute_report, coverage_per_cycle, write_report


def cycle(node, level, c, items, assigned):
    return {"event": "cycle", "node": node, "level": level, "cycle": c, "items": items, "assigned": assigned}


def test_coverage_per_cycle_carries_early_stops_forward():
    log = [
        cycle("root", 1, 1, 100, 60),
        cycle("root", 1, 2, 100, 90),
        cycle("root", 1, 3, 100, 96),
        cycle("1", 2, 1, 50, 50),
    ]
    assert coverage_per_cycle(log) == pytest.approx([110 / 150, 140 / 150, 146 / 150])
    assert coverage_per_cycle(log, level=2) == pytest.approx([1.0])


def test_report_figures_and_escaped_html(tmp_path):
    script = TaggerScript(
        change={"action": "CREATE_NEW_CATEGORY", "name": "dairy <script>alert(1)</script>", "description": "dairy"}
    )
    config = run_config(tmp_path, script, assign={"method": "llm"})
    run_build(config)
    before = compute_report(config.run_dir)  # works before assignment, without its figures
    assert "collision_rate" not in before and before["assign_per_item"] is None
    run_assign(config)
    report = compute_report(config.run_dir)
    assert report["size_per_level"] == {1: 3}
    assert report["coverage_per_cycle"] == pytest.approx([32 / 48, 1.0])
    assert report["proposals"] == {"CREATE_NEW_CATEGORY": 1} and report["approval_rate"] == 1.0
    assert report["utilisation"] == 1.0 and report["collision_rate"] == 1.0 and report["largest_bucket"] == 16
    assert report["assign_per_item"]["llm_calls"] == 1.0
    assert report["build_per_item"]["llm_calls"] == pytest.approx((48 + 16 + 1 + 2) / 48)
    page = write_report(config.run_dir).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    out = artifacts.tagger_dir(config.run_dir)
    assert {p.name for p in out.glob("*.png")} == {
        "coverage_per_cycle.png",
        "vocabulary_per_level.png",
        "items_per_descriptor.png",
    }
    assert json.loads((out / "report.json").read_text())["distinct_paths"] == 3


def test_report_needs_a_vocabulary(tmp_path):
    with pytest.raises(AgenticRecError, match="run `agenticrec tag build` first"):
        compute_report(tmp_path)


def test_tag_commands(tmp_path, monkeypatch):
    config = write_yaml_config(tmp_path, "tagger_testkit:killable_script", keyword_items=6)
    monkeypatch.setenv("TAGGER_CALLS", str(tmp_path / "calls"))
    runner = CliRunner()
    run_dir = tmp_path / "cli-run"
    for command in ("build", "assign", "keywords"):
        result = runner.invoke(app, ["tag", command, "--config", str(config), "--run-dir", str(run_dir)])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["tag", "show", str(run_dir)])
    assert "fruit" in shown.output and "dairy" in shown.output
    reported = runner.invoke(app, ["tag", "report", str(run_dir)])
    assert reported.exit_code == 0 and (artifacts.tagger_dir(run_dir) / artifacts.REPORT).is_file()
    assert "collision rate" in reported.output
