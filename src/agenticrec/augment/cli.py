"""``agenticrec augment``: LaMAR's LLM-proposed item signal, generated for every item, and its diversity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from agenticrec.commands import config_command, named_run_dirs, stage_command
from agenticrec.pipeline import RunConfig, StageRun, stage_run

app = typer.Typer(help="LaMAR item signals: propose an attribute, generate it per item, measure diversity.",
                  no_args_is_help=True)  # fmt: skip


def _run_and_print(run: StageRun, stage: Callable[..., dict[str, Any]]) -> None:
    """Run an LLM step of the augment stage on the config's dataset and print its summary."""
    cfg = run.config
    Console().print(stage(run.dataset, cfg.augment, run.llm, cfg.run_dir, cfg.seed))


@stage_command(app, "augment propose")
def propose(run: StageRun) -> None:
    """Ask role `signal_proposer` for `augment.proposals` new attributes of this domain (near-duplicates dropped)."""
    from agenticrec.augment.propose import run_propose

    _run_and_print(run, run_propose)


@stage_command(app, "augment generate")
def generate(run: StageRun) -> None:
    """Write the kept proposal's value for every item (role `signal_writer`; resumable), dropping inconsistent ones."""
    from agenticrec.augment.generate import run_generate

    _run_and_print(run, run_generate)


@stage_command(app, "augment diversity")
def diversity(run: StageRun) -> None:
    """Pairwise similarity of the generated values, crowded items, and redundancy with the title and category."""
    from agenticrec.augment.diversity import run_diversity

    result = run_diversity(run.dataset, run.config.augment, run.config.run_dir)
    Console().print({k: v for k, v in result.items() if not isinstance(v, dict)})


def rank_llm(
    cfg: RunConfig,
    fresh: bool,
    baselines: list[str] = typer.Option(
        [], "--baseline", help="NAME=RUN_DIR: a trained run ranked on the same candidate sets (repeatable)"
    ),
) -> None:
    """LaMAR's LLM ranker: 20 random items + the next item per test user, ranked by role `ranker` (items rendered
    from `data.text_fields`), beside random, popularity and each baseline run on the same candidates."""
    from rich.table import Table

    from agenticrec.augment.ranker import run_rank_llm

    runs = named_run_dirs(baselines, "--baseline")
    with stage_run(cfg, "augment rank-llm", fresh=fresh) as run:
        result = run_rank_llm(run.dataset, cfg.augment.ranker, run.llm, cfg.run_dir, cfg.seed, runs)
    table = Table("method", "Recall@10", "NDCG@10", "MRR", "hit@1", title=f"{result['protocol']['users']} users")
    for name, m in result["methods"].items():
        table.add_row(name, *(f"{m[k]:.4f}" for k in ("recall@10", "ndcg@10", "mrr", "hit@1")))
    Console().print(table)


config_command(app, "rank-llm")(rank_llm)
