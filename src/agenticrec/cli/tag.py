"""``agenticrec tag``: build, assign, compare and report an AgenticTagger descriptor vocabulary."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agenticrec.cli.options import config_command
from agenticrec.pipeline import RunConfig, stages
from agenticrec.tagger import artifacts

app = typer.Typer(
    help="AgenticTagger: a hierarchical descriptor vocabulary built and assigned by LLM agents.", no_args_is_help=True
)


@config_command(app, "build")
def build(cfg: RunConfig, fresh: bool) -> None:
    """Build the vocabulary (Algorithms 1 and 2). Resumable: a rerun replays finished calls from the ledger."""
    vocabulary = stages.tag_build(cfg, fresh)
    Console().print(vocabulary.tree())
    Console().print(f"wrote {artifacts.tagger_dir(cfg.run_dir) / artifacts.VOCABULARY}")


@config_command(app, "assign")
def assign(cfg: RunConfig, fresh: bool) -> None:
    """Assign one descriptor per level to every item and give each a unique semantic ID."""
    table = stages.tag_assign(cfg, fresh)
    summary = artifacts.read_json(artifacts.tagger_dir(cfg.run_dir) / artifacts.ASSIGN_SUMMARY)
    Console().print(
        f"assigned {len(table)} items: {summary['distinct_paths']} distinct paths, collision rate "
        f"{summary['collision_rate']:.1%}, label sources {summary['sources']}"
    )


@config_command(app, "audit")
def audit(cfg: RunConfig, fresh: bool) -> None:
    """LLM-judge audit of the assignment: does the assigned descriptor fit, and does a random sibling?"""
    summary = stages.tag_audit(cfg, fresh)
    Console().print(
        f"judge ({summary['choice_mode']}): precision of 'fits' {_fraction(summary['judge_precision'])}, "
        f"recall {_fraction(summary['judge_recall'])} over {summary['judged']} judged pairs"
    )


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@config_command(app, "keywords")
def keywords(cfg: RunConfig, fresh: bool) -> None:
    """Free-form keyword baseline: three LLM keywords per sampled item, and how often they are reused."""
    summary = stages.tag_keywords(cfg, fresh)
    Console().print({k: v for k, v in summary.items() if k != "llm"})


@app.command()
def show(run_dir: Path = typer.Argument(help="a run directory with a built vocabulary")) -> None:
    """Print the vocabulary as a tree."""
    from agenticrec.tagger.vocabulary import Vocabulary

    Console().print(Vocabulary.load(artifacts.tagger_dir(run_dir) / artifacts.VOCABULARY).tree())


@app.command()
def report(run_dir: Path = typer.Argument(help="a run directory with a built vocabulary")) -> None:
    """Write the quality and cost report (HTML, PNG plots, report.json) and print its key figures."""
    from agenticrec.tagger.report import compute_report, summary_table, write_report

    html = write_report(run_dir)
    Console().print(summary_table(compute_report(run_dir)))
    Console().print(f"wrote {html}")
