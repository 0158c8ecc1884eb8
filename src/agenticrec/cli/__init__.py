"""The ``agenticrec`` command line."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from agenticrec.cli import augment, data, evolve, explain, ids, intent, judge, llm, recommend, runs, serve, tag
from agenticrec.cli.options import config_command
from agenticrec.errors import AgenticRecError

app = typer.Typer(
    help="agenticrec: LLM agents that build item features, user-intent signals and explanations for recommenders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(llm.app, name="llm")
app.add_typer(tag.app, name="tag")
app.add_typer(ids.app, name="ids")
app.add_typer(intent.app, name="intent")
app.add_typer(judge.app, name="judge")
app.add_typer(explain.app, name="explain")
app.add_typer(augment.app, name="augment")
app.add_typer(evolve.app, name="evolve")
config_command(app, "train", model=True, fresh=False)(runs.train)
app.command("evaluate")(runs.evaluate)
app.command("recommend")(recommend.recommend)
app.command("critique")(recommend.critique)
app.command("presets")(runs.presets)
app.command("quickstart")(runs.quickstart)
app.command("serve")(serve.serve)
config_command(app, "rank-llm")(augment.rank_llm)


def main() -> None:
    """Console entry point: user-facing errors are printed as one message, not a traceback."""
    try:
        app()
    except AgenticRecError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
