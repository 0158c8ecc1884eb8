"""``agenticrec train``, ``evaluate`` and ``quickstart``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.config import load_config
from agenticrec.pipeline import evaluate_run, train_and_evaluate

TABLE_METRICS = {"recall@10": "R@10", "ndcg@10": "N@10", "ndcg@20": "N@20", "mrr": "MRR",
                 "coverage@10": "cov@10", "exposure@10_tail": "tail@10"}

ConfigOption = typer.Option(None, "--config", "-c", help="YAML run config")
SetOption = typer.Option([], "--set", "-s", help="override a config key, e.g. model.loss=bce (repeatable)")


def results_table(rows: dict[str, dict[str, Any]], title: str) -> Table:
    table = Table("run", *TABLE_METRICS.values(), "train s", title=title)
    for name, result in rows.items():
        test = result["test"]
        seconds = result.get("train", {}).get("train_seconds")
        table.add_row(name, *(f"{test[m]:.4f}" for m in TABLE_METRICS), f"{seconds:.0f}" if seconds else "-")
    return table


def train(
    config: Path | None = ConfigOption,
    set_: list[str] = SetOption,
    run_dir: Path | None = typer.Option(None, help="run directory (overrides run_dir in the config)"),
) -> None:
    """Train a model on a dataset, evaluate it (full ranking, leave-one-out) and write the run directory."""
    overrides = [*set_, *([f"run_dir={run_dir}"] if run_dir else [])]
    run_config = load_config(config, overrides)
    result = train_and_evaluate(run_config)
    Console().print(results_table({str(run_config.run_dir): result}, "test metrics"))
    Console().print(f"wrote {run_config.run_dir / 'metrics.json'}")


def evaluate(
    run_dir: Path = typer.Argument(help="a run directory written by `agenticrec train`"),
    stage: str = typer.Option("test", help="valid or test"),
    mask_history: bool | None = typer.Option(None, "--mask-history/--no-mask-history",
                                             help="exclude history items from the ranking (default: as trained)"),
) -> None:
    """Re-evaluate a trained run from its config and checkpoint."""
    if stage not in ("valid", "test"):
        raise typer.BadParameter("stage must be valid or test")
    result = evaluate_run(run_dir, stage, mask_history)  # type: ignore[arg-type]
    table = Table("metric", "value", title=f"{run_dir} ({stage})")
    for key, value in result[stage].items():
        table.add_row(key, f"{value:.4f}")
    Console().print(table)


def quickstart(
    run_dir: Path = typer.Option(Path("runs/quickstart"), help="parent directory of the quickstart runs"),
    set_: list[str] = SetOption,
) -> None:
    """The main job on the embedded default: MovieLens-100k, AgenticTagger descriptors with the embedded LLM,
    generative retrieval on descriptor IDs vs popularity and SASRec, example lists, a critique example, a report."""
    from agenticrec.quickstart import run_quickstart

    run_quickstart(run_dir, set_)
