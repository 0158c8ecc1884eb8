"""The command line: help everywhere, dataset statistics, training from flags, one-line errors."""

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from agenticrec.cli import app
from agenticrec.data.registry import default_data_dir

runner = CliRunner()


def command_paths(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from command_paths(command, (*prefix, name))


def test_every_command_has_help():
    paths = list(command_paths(typer.main.get_command(app)))
    assert {("train",), ("evaluate",), ("quickstart",), ("data", "stats"), ("llm", "stats")} <= set(paths)
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


@pytest.mark.skipif(default_data_dir() is None, reason="benchmark data directory (../shared/data) not present")
def test_data_stats_prints_the_published_beauty_counts():
    result = runner.invoke(app, ["data", "stats", "amazon-beauty"])
    assert result.exit_code == 0, result.output
    for figure in ("22,363", "12,101", "198,502"):
        assert figure in result.output


def test_train_and_evaluate_from_the_command_line(tmp_path):
    run = tmp_path / "pop"
    result = runner.invoke(
        app, ["train", "--set", "data.name=movielens-100k", "--set", "model.name=popularity", "--run-dir", str(run)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    result = runner.invoke(app, ["evaluate", str(run)])
    assert result.exit_code == 0, result.output
    assert f"{metrics['test']['ndcg@10']:.4f}" in result.output


def test_recommend_works_for_a_run_without_semantic_ids(tmp_path):
    run = tmp_path / "pop"
    trained = runner.invoke(app, ["train", "--data", "movielens-100k", "--model", "popularity", "--run-dir", str(run)])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["recommend", str(run), "--user", "196", "-k", "3"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "user 196" in result.output and "score" in result.output and "semantic ID" not in result.output
    command = [sys.executable, "-m", "agenticrec", "recommend", str(run), "--user", "196", "--allow", "x"]
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 2 and "needs a run with semantic IDs" in refused.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--set", "model.loss=hinge"], "invalid config"),
        (["train", "--config", "no-such-file.yaml"], "config file not found"),
        (["data", "stats", "no-such-dataset"], "unknown dataset 'no-such-dataset'"),
        (["evaluate", "no-such-run"], "not a run directory"),
        (["serve", "."], "no trained run under ."),
        (["serve", "no-such-folder"], "no-such-folder is not a directory"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "agenticrec", *args], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
