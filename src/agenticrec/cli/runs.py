"""``agenticrec train``, ``evaluate``, ``presets`` and ``quickstart``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.commands import SHARED
from agenticrec.config import preset_names
from agenticrec.pipeline import RunConfig, evaluate_run, train_and_evaluate
from agenticrec.pipeline.tables import results_table


def train(
    cfg: RunConfig,
    with_events: Path | None = typer.Option(
        None, "--with-events", help="a served run's events.sqlite: its interactions join the histories first"
    ),
) -> None:
    """Train a model on a dataset, evaluate it (full ranking, leave-one-out) and write the run directory."""
    run = cfg.model_copy(update={"data": cfg.data.model_copy(update={"events": with_events})}) if with_events else cfg
    result = train_and_evaluate(run)
    Console().print(results_table({str(run.run_dir): result}, "test metrics"))
    Console().print(f"wrote {run.run_dir / 'metrics.json'}")


def evaluate(
    run_dir: Path = typer.Argument(help="a run directory written by `agenticrec train`"),
    stage: str = typer.Option("test", help="valid or test"),
    mask_history: bool | None = typer.Option(
        None, "--mask-history/--no-mask-history", help="exclude history items from the ranking (default: as trained)"
    ),
) -> None:
    """Re-evaluate a trained run from its config and checkpoint."""
    if stage not in ("valid", "test"):
        raise typer.BadParameter("stage must be valid or test")
    result = evaluate_run(run_dir, stage, mask_history)  # type: ignore[arg-type]
    table = Table("metric", "value", title=f"{run_dir} ({stage})")
    for key, value in result[stage].items():
        table.add_row(key, f"{value:.4f}")
    Console().print(table)


def presets() -> None:
    """List the shipped dataset, model and LLM presets (for --data, --model and --llm)."""
    table = Table("kind", "presets")
    for kind in ("datasets", "models", "llm"):
        table.add_row(kind, ", ".join(preset_names(kind)))
    Console().print(table)


def quickstart(
    run_dir: Path = typer.Option(Path("runs/quickstart"), help="parent directory of the quickstart runs"),
    set_: list[str] = SHARED["set_"][1],
) -> None:
    """The main job on the embedded default: MovieLens-100k, AgenticTagger descriptors with the embedded LLM,
    generative retrieval on descriptor IDs vs popularity and SASRec, example lists, a critique example, a report."""
    from agenticrec.quickstart import run_quickstart

    run_quickstart(run_dir, set_)
