"""``agenticrec intent``: RecGPT's compressed histories, interest mining, tag prediction and HR@K evaluation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.cli.options import (
    ConfigOption,
    DataOption,
    LLMOption,
    RunDirOption,
    SetOption,
    run_config,
    stage_command,
    stage_inputs,
)
from agenticrec.data import Dataset
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig

app = typer.Typer(
    help="RecGPT user intent: compressed histories, interests, predicted tags, HR@K.", no_args_is_help=True
)

Stage = Callable[[Dataset, Any, LLMClient, Path, int], dict[str, Any]]


def run_stage(cfg: RunConfig, stage: Stage) -> dict[str, Any]:
    with stage_inputs(cfg) as (dataset, client):
        return stage(dataset, cfg.intent, client, cfg.run_dir, cfg.seed)


def _print(summary: dict[str, Any], keys: list[str]) -> None:
    Console().print({k: summary[k] for k in keys if k in summary})


@stage_command(app)
def compress(cfg: RunConfig) -> None:
    """Compress the sampled users' behaviour histories; token counts before and after (the LLM's tokenizer)."""
    from agenticrec.intent import run_compress

    summary = run_stage(cfg, run_compress)
    _print(summary, ["users", "tokens_before_mean", "tokens_after_mean", "compression_token_reduction",
                     "fit_share_before", "fit_share_after", "token_counter"])  # fmt: skip


@stage_command(app, "item-tags")
def item_tags(cfg: RunConfig) -> None:
    """Tag every item with role `item_tagger` (cached per item; category tags where it gives none): TAR's tags."""
    from agenticrec.intent.item_tags import run_item_tags

    with stage_inputs(cfg) as (dataset, client):
        Console().print(run_item_tags(dataset, cfg.intent, client, cfg.run_dir))


@stage_command(app)
def mine(cfg: RunConfig) -> None:
    """Mine 3-8 interests per sampled user, each with a rationale and evidence from the user's own history."""
    from agenticrec.intent import run_mine

    summary = run_stage(cfg, run_mine)
    _print(summary, ["users", "failed_calls", "interests", "interests_per_user_mean", "repaired_interests",
                     "dropped_interests", "evidence_valid_share"])  # fmt: skip


@stage_command(app)
def tags(cfg: RunConfig) -> None:
    """Predict K tags per sampled user (kinds of products wanted next) from the interests and the history."""
    from agenticrec.intent import run_tags

    summary = run_stage(cfg, run_tags)
    _print(summary, ["users", "failed_calls", "tags_per_user_mean", "tags_removed"])


@stage_command(app, with_llm=False)
def evaluate(cfg: RunConfig) -> None:
    """HR@K of the predicted tags against popular, recent, transition and hybrid baselines; writes the report."""
    from agenticrec.intent import run_evaluate
    from agenticrec.intent.report import METHODS, write_report

    dataset = cfg.data.load()
    result = run_evaluate(dataset, cfg.intent, cfg.run_dir, cfg.seed)
    summary = result["summary"]
    table = Table("method", *(f"HR@{k}" for k in cfg.intent.hit_ks), title=f"{summary['users_evaluated']} users")
    for method in METHODS:
        table.add_row(method, *(f"{summary[f'hr{k}_{method}']:.4f}" for k in cfg.intent.hit_ks))
    Console().print(table)
    Console().print(f"wrote {write_report(dataset, cfg.intent, cfg.run_dir)}")


@app.command()
def curate(
    config: Path | None = ConfigOption,
    set_: list[str] = SetOption,
    run_dir: Path | None = RunDirOption,
    data: str | None = DataOption,
    llm: str | None = LLMOption,
    users: int = typer.Option(20, help="judge every tag of this many sampled users"),
) -> None:
    """Judge-filtered, category-balanced (history, tag, interest, rationale) samples for a later fine-tune."""
    from agenticrec.intent.judging import run_curate

    cfg = run_config(config, set_, run_dir, data, llm=llm)
    with stage_inputs(cfg) as (dataset, client):
        summary = run_curate(dataset, cfg.intent, cfg.judge, client, cfg.run_dir, cfg.seed, users)
    _print(summary, ["users", "tags_judged", "samples", "dropped_not_passed", "dropped_category_cap"])
