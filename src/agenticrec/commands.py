"""Options shared by the commands that read a run config, declared once: `config_command` gives a command the
options every stage reads its run config from, beside the command's own."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from agenticrec.pipeline import RunConfig, load_config
from agenticrec.pipeline.provenance import STAGES


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


PRESETS = "(see `agenticrec presets`)"
SHARED = {  # option name -> (type, typer option); "set_" is --set
    "config": (Path | None, typer.Option(None, "--config", "-c", help="YAML run config")),
    "set_": (
        list[str],
        typer.Option([], "--set", "-s", help="override a config key, e.g. model.loss=bce (repeatable)"),
    ),
    "run_dir": (Path | None, typer.Option(None, "--run-dir", help="run directory (overrides run_dir in the config)")),
    "data": (str | None, typer.Option(None, "--data", help=f"dataset preset, e.g. amazon-beauty {PRESETS}")),
    "model": (str | None, typer.Option(None, "--model", help=f"model preset, e.g. sasrec-ce {PRESETS}")),
    "llm": (str | None, typer.Option(None, "--llm", help=f"LLM preset, e.g. qwen-1.5b {PRESETS}")),
    "fresh": (bool, typer.Option(False, "--fresh", help="start the run directory over (the LLM ledger stays)")),
}


def run_config(
    config: Path | None,
    set_: list[str],
    run_dir: Path | None,
    data: str | None = None,
    model: str | None = None,
    llm: str | None = None,
) -> RunConfig:
    """Presets < config file < ``--set`` < ``--run-dir``."""
    overrides = [*set_, *([f"run_dir={run_dir}"] if run_dir else [])]
    return load_config(config, overrides, data=data, model=model, llm=llm)


ConfigBody = Callable[..., None]


def config_command(
    app: typer.Typer, name: str, *, data: bool = True, llm: bool = True, model: bool = False, fresh: bool = True
) -> Callable[[ConfigBody], ConfigBody]:
    """Register ``body(cfg, fresh, **own)`` (``body(cfg, **own)`` without ``fresh``) as command ``name`` of ``app``:
    its options are the shared ones (-c, --set, --run-dir, and --data, --model, --llm, --fresh where asked for)
    followed by the body's own keyword parameters after ``cfg`` (and ``fresh``)."""
    wanted = {"data": data, "model": model, "llm": llm}
    shared = ["config", "set_", "run_dir", *(key for key, on in wanted.items() if on)]

    def register(body: ConfigBody) -> ConfigBody:
        hints = typing.get_type_hints(body)
        own = list(inspect.signature(body).parameters.values())[2 if fresh else 1 :]

        def command(**given: Any) -> None:
            cfg = run_config(*(given.pop(key, None) for key in ("config", "set_", "run_dir", "data", "model", "llm")))
            body(cfg, given.pop("fresh"), **given) if fresh else body(cfg, **given)

        options = [_option(key, *SHARED[key]) for key in [*shared, *(["fresh"] if fresh else [])]]
        options += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name]) for p in own]
        command.__signature__ = inspect.Signature(options)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in options}
        command.__doc__ = body.__doc__
        app.command(name)(command)
        return body

    return register


def stage_command(app: typer.Typer, stage: str) -> Callable[[ConfigBody], ConfigBody]:
    """`config_command` for the command that runs ``stage`` (see `pipeline.provenance.STAGES`): named by the stage's
    last word, with --llm where the stage calls an LLM."""
    return config_command(app, stage.split()[-1], llm=STAGES[stage].llm)


def named_run_dirs(values: list[str], option: str) -> dict[str, Path]:
    """``NAME=RUN_DIR`` option values as a name -> run directory map; a malformed one is a config error."""
    from agenticrec.errors import ConfigError

    pairs = [value.split("=", 1) for value in values]
    if bad := [value for value, pair in zip(values, pairs) if len(pair) != 2 or not all(pair)]:
        raise ConfigError(f"{option} takes NAME=RUN_DIR, got {', '.join(bad)}")
    return {name: Path(path) for name, path in pairs}
