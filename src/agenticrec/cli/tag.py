"""``agenticrec tag``: build, assign, compare and report an AgenticTagger descriptor vocabulary."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agenticrec.cli.runs import ConfigOption, SetOption
from agenticrec.config import RunConfig, load_config
from agenticrec.tagger import artifacts

app = typer.Typer(help="AgenticTagger: a hierarchical descriptor vocabulary built and assigned by LLM agents.",
                  no_args_is_help=True)

RunDirOption = typer.Option(None, "--run-dir", help="run directory (overrides run_dir in the config)")


def _config(config: Path | None, set_: list[str], run_dir: Path | None) -> RunConfig:
    return load_config(config, [*set_, *([f"run_dir={run_dir}"] if run_dir else [])])


@app.command()
def build(config: Path | None = ConfigOption, set_: list[str] = SetOption, run_dir: Path | None = RunDirOption) -> None:
    """Build the vocabulary (Algorithms 1 and 2). Resumable: a rerun replays finished calls from the ledger."""
    from agenticrec.tagger.build import run_build

    cfg = _config(config, set_, run_dir)
    vocabulary = run_build(cfg)
    Console().print(vocabulary.tree())
    Console().print(f"wrote {artifacts.tagger_dir(cfg.run_dir) / artifacts.VOCABULARY}")


@app.command()
def assign(config: Path | None = ConfigOption, set_: list[str] = SetOption, run_dir: Path | None = RunDirOption) -> None:
    """Assign one descriptor per level to every item and give each a unique semantic ID."""
    from agenticrec.tagger.assign import run_assign

    cfg = _config(config, set_, run_dir)
    table = run_assign(cfg)
    summary = artifacts.read_json(artifacts.tagger_dir(cfg.run_dir) / artifacts.ASSIGN_SUMMARY)
    Console().print(
        f"assigned {len(table)} items: {summary['distinct_paths']} distinct paths, collision rate "
        f"{summary['collision_rate']:.1%}, label sources {summary['sources']}"
    )


@app.command()
def keywords(config: Path | None = ConfigOption, set_: list[str] = SetOption, run_dir: Path | None = RunDirOption) -> None:
    """Free-form keyword baseline: three LLM keywords per sampled item, and how often they are reused."""
    from agenticrec.tagger.keywords import run_keywords

    summary = run_keywords(_config(config, set_, run_dir))
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
