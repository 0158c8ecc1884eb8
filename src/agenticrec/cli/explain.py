"""``agenticrec explain``: RecGPT's offline (interest, item, explanation) table and its request-time lookup."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from agenticrec.cli.options import config_command
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import RunConfig, stage_run

app = typer.Typer(help="Personalised explanations: build the offline table, look one up.", no_args_is_help=True)


@config_command(app, "build")
def build(
    cfg: RunConfig,
    fresh: bool,
    judge: bool = typer.Option(True, help="judge a sample of the explanations (intent.explain_judge_pairs)"),
) -> None:
    """Explain the items closest to each mined interest (role `explainer`); check and judge the explanations."""
    from agenticrec.intent.explanations import run_explain, run_explain_judge

    with stage_run(cfg, "explain build", fresh=fresh) as run:
        summary = run_explain(run.dataset, cfg.intent, run.llm, cfg.run_dir, cfg.seed)
        if judge and cfg.intent.explain_judge_pairs:
            summary = run_explain_judge(run.dataset, cfg.intent, cfg.judge, run.llm, cfg.run_dir, cfg.seed)
    Console().print({k: v for k, v in summary.items() if not isinstance(v, str)})


@app.command()
def show(
    run_dir: Path = typer.Argument(help="a run directory where `agenticrec explain build` has been"),
    user: str = typer.Option(..., help="user id"),
    item: str = typer.Option(..., help="item id"),
) -> None:
    """The explanation of ``item`` for ``user``, under the user's interest closest to the item (no LLM call)."""
    from agenticrec.intent.explanations import ExplanationLookup

    lookup = ExplanationLookup.load(run_dir)
    if user not in lookup.user_interests:
        raise AgenticRecError(f"user {user!r} has no mined interests in {run_dir} (only the sampled users have)")
    started = time.perf_counter()
    found = lookup.explain(user, item)
    elapsed = (time.perf_counter() - started) * 1000
    if found is None:
        Console().print(f"no explanation for user {user!r} and item {item!r}: none of the user's mined interests has "
                        "this item among its explained items")  # fmt: skip
        raise typer.Exit(1)
    Console().print(f"[bold]{found.interest}[/bold] (similarity {found.similarity:.2f}, lookup {elapsed:.3f} ms)")
    Console().print(found.explanation)
