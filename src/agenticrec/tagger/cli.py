"""AgenticTagger's commands: ``agenticrec tag`` (build, assign, audit, compare and report a descriptor vocabulary)
and ``agenticrec critique`` (the single-turn critique experiment on a generative run over its IDs)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.commands import config_command
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import RunConfig, load_config, stages
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
    summary = artifacts.read_json(cfg.run_dir, artifacts.ASSIGN_SUMMARY)
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


def critique(
    run_dir: Path = typer.Argument(help="a run directory of a trained generative model on descriptor IDs"),
    users: int = typer.Option(5000, help="test users to sample (seeded)"),
    seed: int = typer.Option(0, help="sampling seed"),
    valid_users: int = typer.Option(300, help="validation users that fit the soft critique's weight (0: none)"),
    examples: int = typer.Option(0, min=0, help="typical items (most interacted-with) listed on each option's card"),
    llm: str | None = typer.Option(None, "--llm", help="LLM preset of the simulated user (default: the run's LLM)"),
    set_: list[str] = typer.Option(
        [], "--set", "-s", help="an llm.* key of the simulated user's LLM, e.g. llm.roles.simulated_user.choice=score"
    ),
) -> None:
    """Single-turn critique experiment: an LLM user picks level-1 descriptors of the wanted item;
    vanilla vs critique (hard, and soft where the user scores) vs the oracle's bound."""
    from agenticrec.tagger.critique.experiment import CRITIQUE_FILE, run_critique

    if bad := [s for s in set_ if not s.startswith("llm.")]:
        raise AgenticRecError(f"critique --set takes llm.* keys only (the trained run stays as it is), got {bad}")
    user = load_config(None, set_, llm=llm).llm if llm or set_ else None  # the simulated user's own LLM config
    result = run_critique(run_dir, users, seed, llm=user, valid_users=valid_users, examples=examples)
    table = Table(
        "decoding", "R@5", "N@5", "R@10", "N@10", "R@20", "N@20", title=f"critique on {result['users']} test users"
    )
    for name in (n for n in ("vanilla", "critique", "soft", "oracle") if n in result):
        m = result[name]
        table.add_row(name, *(f"{m[f'{metric}@{k}']:.4f}" for k in (5, 10, 20) for metric in ("recall", "ndcg")))
    Console().print(table)
    Console().print(
        f"target under the picked descriptors: {result['target_under_picks']:.1%}; "
        f"descriptors picked per user: {result['mean_picked']:.2f} ({result['abstained']} abstained); "
        f"oracle: the target's own descriptor; wrote {Path(run_dir) / CRITIQUE_FILE}"
    )
    if "soft" in result:
        Console().print(
            f"soft: the user's option scores x {result['soft_weight']:g} (best on {result['soft_valid_users']} "
            "validation users) as a prior over level-1 descriptors in beam search"
        )
    if unseen := result.get("targets_not_among_typical"):
        ndcg = ", ".join(
            f"{name} {unseen[name]:.4f}" for name in ("vanilla", "critique", "soft", "oracle") if name in unseen
        )
        Console().print(f"N@10 of the {unseen['users']} users whose target is on no card: {ndcg}")
