"""LaMAR's commands: ``agenticrec augment`` (an LLM-proposed item signal, generated for every item, its diversity)
and ``agenticrec rank-llm`` (the LLM ranker)."""

from __future__ import annotations

import typer
from rich.console import Console

from agenticrec.augment.api import LaMAR
from agenticrec.commands import named_run_dirs, stage_command
from agenticrec.pipeline import RunConfig

app = typer.Typer(help="LaMAR item signals: propose an attribute, generate it per item, measure diversity.",
                  no_args_is_help=True)  # fmt: skip


@stage_command(app, "augment propose")
def propose(cfg: RunConfig, fresh: bool) -> None:
    """Ask role `signal_proposer` for `augment.proposals` new attributes of this domain (near-duplicates dropped)."""
    Console().print(LaMAR(cfg).propose(fresh))


@stage_command(app, "augment generate")
def generate(cfg: RunConfig, fresh: bool) -> None:
    """Write the kept proposal's value for every item (role `signal_writer`; resumable), dropping inconsistent ones."""
    Console().print(LaMAR(cfg).generate(fresh))


@stage_command(app, "augment diversity")
def diversity(cfg: RunConfig, fresh: bool) -> None:
    """Pairwise similarity of the generated values, crowded items, and redundancy with the title and category."""
    Console().print({k: v for k, v in LaMAR(cfg).diversity(fresh).items() if not isinstance(v, dict)})


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

    result = LaMAR(cfg).rank(named_run_dirs(baselines, "--baseline"), fresh)
    table = Table("method", "Recall@10", "NDCG@10", "MRR", "hit@1", title=f"{result['protocol']['users']} users")
    for name, m in result["methods"].items():
        table.add_row(name, *(f"{m[k]:.4f}" for k in ("recall@10", "ndcg@10", "mrr", "hit@1")))
    Console().print(table)


stage_command(app, "augment rank-llm")(rank_llm)
