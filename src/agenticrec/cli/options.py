"""Options shared by the commands that read a run config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from agenticrec.config import save_config
from agenticrec.data import Dataset
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, load_config

ConfigOption = typer.Option(None, "--config", "-c", help="YAML run config")
SetOption = typer.Option([], "--set", "-s", help="override a config key, e.g. model.loss=bce (repeatable)")
RunDirOption = typer.Option(None, "--run-dir", help="run directory (overrides run_dir in the config)")
DataOption = typer.Option(None, "--data", help="dataset preset, e.g. amazon-beauty (see `agenticrec presets`)")
ModelOption = typer.Option(None, "--model", help="model preset, e.g. sasrec-ce (see `agenticrec presets`)")
LLMOption = typer.Option(None, "--llm", help="LLM preset, e.g. qwen-1.5b (see `agenticrec presets`)")


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


Stage = Callable[[RunConfig], None]


def stage_command(app: typer.Typer, name: str | None = None, with_llm: bool = True) -> Callable[[Stage], Stage]:
    """Register ``body(cfg)`` as command ``name`` of ``app`` (default: the function's name, dashed), with the options
    every stage reads its run config from: -c, --set, --run-dir, --data and, where it calls an LLM, --llm."""

    def register(body: Stage) -> Stage:
        def command(
            config: Path | None = ConfigOption,
            set_: list[str] = SetOption,
            run_dir: Path | None = RunDirOption,
            data: str | None = DataOption,
            llm: str | None = LLMOption,
        ) -> None:
            body(run_config(config, set_, run_dir, data, llm=llm))

        def command_without_llm(
            config: Path | None = ConfigOption,
            set_: list[str] = SetOption,
            run_dir: Path | None = RunDirOption,
            data: str | None = DataOption,
        ) -> None:
            body(run_config(config, set_, run_dir, data))

        chosen = command if with_llm else command_without_llm
        chosen.__doc__ = body.__doc__
        app.command(name or body.__name__.replace("_", "-"))(chosen)
        return body

    return register


@contextmanager
def stage_inputs(cfg: RunConfig) -> Iterator[tuple[Dataset, LLMClient]]:
    """The dataset (loaded before anything is written), the saved config, and an LLM client on the run's ledger."""
    dataset = cfg.data.load()
    save_config(cfg, cfg.run_dir)
    with LLMClient(cfg.llm, cfg.run_dir) as client:
        yield dataset, client


def named_run_dirs(values: list[str], option: str) -> dict[str, Path]:
    """``NAME=RUN_DIR`` option values as a name -> run directory map; a malformed one is a config error."""
    from agenticrec.errors import ConfigError

    pairs = [value.split("=", 1) for value in values]
    if bad := [value for value, pair in zip(values, pairs) if len(pair) != 2 or not all(pair)]:
        raise ConfigError(f"{option} takes NAME=RUN_DIR, got {', '.join(bad)}")
    return {name: Path(path) for name, path in pairs}
