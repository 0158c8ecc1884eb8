"""``agenticrec intent``: RecGPT's compressed histories, interest mining, tag prediction and HR@K evaluation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.cli.options import config_command, stage_command
from agenticrec.data import Dataset
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, StageRun, stage_run

app = typer.Typer(
    help="RecGPT user intent: compressed histories, interests, predicted tags, HR@K.", no_args_is_help=True
)

Stage = Callable[[Dataset, Any, LLMClient, Path, int], dict[str, Any]]


def run_stage(run: StageRun, stage: Stage) -> dict[str, Any]:
    return stage(run.dataset, run.config.intent, run.llm, run.config.run_dir, run.config.seed)


def _print(summary: dict[str, Any], keys: list[str]) -> None:
    Console().print({k: summary[k] for k in keys if k in summary})


@stage_command(app, "intent compress")
def compress(run: StageRun) -> None:
    """Compress the sampled users' behaviour histories; token counts before and after (the LLM's tokenizer)."""
    from agenticrec.intent import run_compress

    summary = run_stage(run, run_compress)
    _print(summary, ["users", "tokens_before_mean", "tokens_after_mean", "compression_token_reduction",
                     "fit_share_before", "fit_share_after", "token_counter"])  # fmt: skip


@stage_command(app, "intent item-tags")
def item_tags(run: StageRun) -> None:
    """Tag every item with role `item_tagger` (cached per item; category tags where it gives none): TAR's tags."""
    from agenticrec.intent.item_tags import run_item_tags

    Console().print(run_item_tags(run.dataset, run.config.intent, run.llm, run.config.run_dir))


@stage_command(app, "intent mine")
def mine(run: StageRun) -> None:
    """Mine 3-8 interests per sampled user, each with a rationale and evidence from the user's own history."""
    from agenticrec.intent import run_mine

    summary = run_stage(run, run_mine)
    _print(summary, ["users", "failed_calls", "interests", "interests_per_user_mean", "repaired_interests",
                     "dropped_interests", "evidence_valid_share"])  # fmt: skip


@stage_command(app, "intent tags")
def tags(run: StageRun) -> None:
    """Predict K tags per sampled user (kinds of products wanted next) from the interests and the history."""
    from agenticrec.intent import run_tags

    summary = run_stage(run, run_tags)
    _print(summary, ["users", "failed_calls", "tags_per_user_mean", "tags_removed"])


@stage_command(app, "intent evaluate")
def evaluate(run: StageRun) -> None:
    """HR@K of the predicted tags against popular, recent, transition and hybrid baselines; writes the report."""
    from agenticrec.intent import run_evaluate
    from agenticrec.intent.report import METHODS, write_report

    cfg, dataset = run.config, run.dataset
    result = run_evaluate(dataset, cfg.intent, cfg.run_dir, cfg.seed)
    summary = result["summary"]
    table = Table("method", *(f"HR@{k}" for k in cfg.intent.hit_ks), title=f"{summary['users_evaluated']} users")
    for method in METHODS:
        table.add_row(method, *(f"{summary[f'hr{k}_{method}']:.4f}" for k in cfg.intent.hit_ks))
    Console().print(table)
    Console().print(f"wrote {write_report(dataset, cfg.intent, cfg.run_dir)}")


@stage_command(app, "intent score")
def score(run: StageRun) -> None:
    """Score the category prior's top `intent.candidates` per user as tags (role `tag_predictor`), at the validation
    and the test cut-off, and once without a history (content-free)."""
    from agenticrec.intent.candidates import run_score

    _print(run_stage(run, run_score), ["users", "candidates_per_user", "scored", "failed_users"])


@stage_command(app, "intent hybrid")
def hybrid(run: StageRun) -> None:
    """HR@K of each category prior, the LLM score (after `intent score`) and the hybrid of them fitted on the
    validation cut-off, with and without the LLM score, on the test cut-off."""
    from agenticrec.intent.candidates import run_hybrid

    cfg = run.config
    result = run_hybrid(run.dataset, cfg.intent, cfg.run_dir, cfg.seed)
    summary = result["summary"]
    methods = sorted({key.split("_", 1)[1] for key in summary if key.startswith("hr")})
    table = Table("method", *(f"HR@{k}" for k in cfg.intent.hit_ks), title=f"{summary['users_evaluated']} users, "
                  f"target among the candidates for {summary['candidate_recall']:.1%}")  # fmt: skip
    for method in methods:
        table.add_row(method, *(f"{summary[f'hr{k}_{method}']:.4f}" for k in cfg.intent.hit_ks))
    Console().print(table)
    Console().print(result["weights"])


@config_command(app, "curate")
def curate(
    cfg: RunConfig, fresh: bool, users: int = typer.Option(20, help="judge every tag of this many sampled users")
) -> None:
    """Judge-filtered, category-balanced (history, tag, interest, rationale) samples for a later fine-tune."""
    from agenticrec.intent.judging import run_curate

    with stage_run(cfg, "intent curate", fresh=fresh) as run:
        summary = run_curate(run.dataset, cfg.intent, cfg.judge, run.llm, cfg.run_dir, cfg.seed, users)
    _print(summary, ["users", "tags_judged", "samples", "dropped_not_passed", "dropped_category_cap"])
