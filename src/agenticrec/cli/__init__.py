"""The ``agenticrec`` command line: the four systems' commands (each in its own package's ``cli``) and the
commands every run shares (data, llm, ids, train, evaluate, recommend, serve)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from agenticrec.augment import cli as lamar
from agenticrec.cli import data, ids, llm, recommend, runs, serve
from agenticrec.commands import config_command, stage_command
from agenticrec.errors import AgenticRecError
from agenticrec.evolve import cli as agentic_rs
from agenticrec.intent import cli as recgpt
from agenticrec.tagger import cli as tagger

app = typer.Typer(
    help="agenticrec: LLM agents that build item features, user-intent signals and explanations for recommenders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(llm.app, name="llm")
app.add_typer(tagger.app, name="tag")
app.add_typer(ids.app, name="ids")
app.add_typer(recgpt.app, name="intent")
app.add_typer(recgpt.judge_app, name="judge")
app.add_typer(recgpt.explain_app, name="explain")
app.add_typer(lamar.app, name="augment")
app.add_typer(agentic_rs.app, name="evolve")
config_command(app, "train", model=True, fresh=False)(runs.train)
app.command("evaluate")(runs.evaluate)
app.command("recommend")(recommend.recommend)
app.command("critique")(tagger.critique)
app.command("presets")(runs.presets)
app.command("quickstart")(runs.quickstart)
app.command("serve")(serve.serve)
stage_command(app, "augment rank-llm")(lamar.rank_llm)


def main() -> None:
    """Console entry point: user-facing errors are printed as one message, not a traceback."""
    try:
        app()
    except AgenticRecError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
