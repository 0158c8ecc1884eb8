"""``agenticrec evolve``: AgenticRS agents evolved by search or LLM proposals, with resumable Optuna studies."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.commands import config_command, named_run_dirs
from agenticrec.evolve.api import AgenticRS
from agenticrec.pipeline import RunConfig

app = typer.Typer(
    help="AgenticRS: evolve agents (random, TPE, LLM, LLM+TPE, chooser, bandit), compose them, report.",
    no_args_is_help=True,
)


def _print(result: dict[str, object]) -> None:
    table = Table("study", "finished", "failed", "best inner", "best outer", "best config", title="evolution")
    for s in result["studies"]:  # type: ignore[attr-defined]
        best = "-" if s["best_inner"] is None else f"{s['best_inner']:.4f}"
        outer = "-" if s["best_outer"] is None else f"{s['best_outer']:.4f}"
        table.add_row(s["study"], str(s["complete"]), str(s["failed"]), best, outer, str(s["best_params"]))
    Console().print(table)


@config_command(app, "run")
def run(cfg: RunConfig, fresh: bool) -> None:
    """Evolve `evolve.agent` by `evolve.method` for `evolve.trials` proxy trials (a study already there resumes)."""
    _print(AgenticRS(cfg).evolve(fresh))


@app.command()
def resume(run_dir: Path = typer.Argument(..., help="an evolve run directory")) -> None:
    """Continue a killed or finished study from its saved config: finished trials are kept, a running one reruns."""
    _print(AgenticRS.load(run_dir).evolve())


@app.command()
def report(run_dir: Path = typer.Argument(..., help="an evolve run directory")) -> None:
    """Every study's best config and rewards; writes evolve.json and the best-so-far plot."""
    from agenticrec.evolve.stage import report as evolve_report

    _print(evolve_report(run_dir))


@config_command(app, "compose", data=False, llm=False, fresh=False)
def compose(
    cfg: RunConfig,
    agents: list[str] = typer.Option(
        ..., "--agent", help="NAME=RUN_DIR: a trained retrieval agent, or an evolve run (its best config); 2 or more"
    ),
) -> None:
    """Fuse, select and route retrieval agents on validation (outer reward); test against each single agent."""
    result = AgenticRS(cfg).compose(named_run_dirs(agents, "--agent"))
    table = Table("system", "validation outer reward", "test NDCG@10", title=f"composition ({result['chosen']} chosen)")
    for name, value in result["single_test_ndcg10"].items():
        table.add_row(name, "-", f"{value:.4f}")
    for name, option in result["options"].items():
        table.add_row(name, f"{option['valid_outer']:.4f}", f"{option['test_ndcg10']:.4f}")
    Console().print(table)
    Console().print(f"fusion: {result['fusion']}; routing by {result['routing_segment_by']}: "
                    f"{ {seg: r['served_by'] for seg, r in result['routing'].items()} }")  # fmt: skip


@app.command("signal-card")
def signal_card(
    tables: list[Path] = typer.Argument(..., help="signal tables written by `augment generate` (signal.parquet)"),
    out: Path = typer.Option(..., "--out", help="where to write the card YAML"),
    fields: str | None = typer.Option(None, help="base item text fields, e.g. title,brand,categories"),
) -> None:
    """Write the LaMAR signal-choice card: the text-based model with the base fields alone or plus one signal."""
    from agenticrec.evolve.signal_card import signal_card as make_card
    from agenticrec.evolve.signal_card import write_card

    card = make_card(tables, fields.split(",") if fields else None)
    write_card(card, out)
    Console().print(f"wrote {out}; evolve it with --set evolve.agent={out}")
    Console().print(card.space.describe())


@app.command()
def cards() -> None:
    """The shipped agent cards and their decision spaces."""
    from agenticrec.evolve.card import load_card, shipped_cards

    for name in shipped_cards():
        card = load_card(name)
        Console().print(f"[bold]{name}[/] ({card.role}, inner reward {card.inner_reward}): {card.description}")
        Console().print(card.space.describe())
