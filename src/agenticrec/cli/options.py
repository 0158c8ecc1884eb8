"""Options shared by the commands that read a run config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from agenticrec.pipeline import RunConfig, load_config
from agenticrec.pipeline.provenance import STAGES, StageRun, stage_run

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


FreshOption = typer.Option(
    False, "--fresh", help="start the run directory over: remove its artifacts (the LLM ledger stays)"
)

ConfigBody = Callable[[RunConfig, bool], None]
Stage = Callable[[StageRun], None]


def config_command(app: typer.Typer, name: str, with_llm: bool = True) -> Callable[[ConfigBody], ConfigBody]:
    """Register ``body(cfg, fresh)`` as command ``name`` of ``app``, with the options every stage reads its run
    config from: -c, --set, --run-dir, --data, --fresh and, where it calls an LLM, --llm."""

    def register(body: ConfigBody) -> ConfigBody:
        def command(
            config: Path | None = ConfigOption,
            set_: list[str] = SetOption,
            run_dir: Path | None = RunDirOption,
            data: str | None = DataOption,
            llm: str | None = LLMOption,
            fresh: bool = FreshOption,
        ) -> None:
            body(run_config(config, set_, run_dir, data, llm=llm), fresh)

        def command_without_llm(
            config: Path | None = ConfigOption,
            set_: list[str] = SetOption,
            run_dir: Path | None = RunDirOption,
            data: str | None = DataOption,
            fresh: bool = FreshOption,
        ) -> None:
            body(run_config(config, set_, run_dir, data), fresh)

        chosen = command if with_llm else command_without_llm
        chosen.__doc__ = body.__doc__
        app.command(name)(chosen)
        return body

    return register


def stage_command(app: typer.Typer, stage: str, with_llm: bool | None = None) -> Callable[[Stage], Stage]:
    """`config_command` for ``body(run)`` run inside `stage_run` of ``stage`` (see `pipeline.provenance.STAGES`),
    named by the stage's last word; --llm where the stage calls an LLM (or ``with_llm`` says so)."""

    def register(body: Stage) -> Stage:
        def in_stage(cfg: RunConfig, fresh: bool) -> None:
            with stage_run(cfg, stage, fresh=fresh) as run:
                body(run)

        in_stage.__doc__ = body.__doc__
        config_command(app, stage.split()[-1], STAGES[stage].llm if with_llm is None else with_llm)(in_stage)
        return body

    return register


def named_run_dirs(values: list[str], option: str) -> dict[str, Path]:
    """``NAME=RUN_DIR`` option values as a name -> run directory map; a malformed one is a config error."""
    from agenticrec.errors import ConfigError

    pairs = [value.split("=", 1) for value in values]
    if bad := [value for value, pair in zip(values, pairs) if len(pair) != 2 or not all(pair)]:
        raise ConfigError(f"{option} takes NAME=RUN_DIR, got {', '.join(bad)}")
    return {name: Path(path) for name, path in pairs}
