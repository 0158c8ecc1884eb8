"""``agenticrec recommend`` and ``agenticrec critique``: a trained run's lists, steered by level-1 descriptors."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import load_run
from agenticrec.pipeline.tables import recommendation_rows, rows_table

RunDirArgument = typer.Argument(help="a run directory of a trained model")


def recommend(
    run_dir: Path = RunDirArgument,
    user: str = typer.Option(..., "--user", "-u", help="user id as in the dataset"),
    k: int = typer.Option(10, "-k", help="list length (for generative runs, at most the beam width searched)"),
    allow: list[str] = typer.Option([], "--allow", "-a", help="level-1 descriptor id or name to keep (repeatable)"),
) -> None:
    """Recommend the next items for a user from their whole history, optionally only under chosen descriptors."""
    run = load_run(run_dir)
    if allow and run.semantic_ids is None:
        raise AgenticRecError(f"{run_dir}: --allow keeps items under descriptors, which needs a run with semantic IDs")
    try:
        history = run.dataset.sequences[run.dataset.user_ids.index(user)]
    except ValueError:
        raise AgenticRecError(f"{run.dataset.name}: unknown user id {user!r}") from None
    allowed = run.semantic_ids.items_under_level1(allow) if allow and run.semantic_ids else None
    items, scores = run.model.recommend([history], k=k, allowed=allowed)
    title = f"user {user} ({len(history)} interactions)" + (f", only under {', '.join(allow)}" if allow else "")
    label = "log p" if run.model.decodes_semantic_ids else "score"
    rows = recommendation_rows(run.dataset, run.semantic_ids, items[0], scores[0], score_label=label)
    Console().print(rows_table(rows, title))


def critique(
    run_dir: Path = RunDirArgument,
    users: int = typer.Option(5000, help="test users to sample (seeded)"),
    seed: int = typer.Option(0, help="sampling seed"),
) -> None:
    """Single-turn critique experiment: an LLM user picks level-1 descriptors of the wanted item;
    vanilla vs critique vs the oracle's bound."""
    from agenticrec.critique.experiment import CRITIQUE_FILE, run_critique

    result = run_critique(run_dir, users, seed)
    table = Table(
        "decoding", "R@5", "N@5", "R@10", "N@10", "R@20", "N@20", title=f"critique on {result['users']} test users"
    )
    for name in ("vanilla", "critique", "oracle"):
        m = result[name]
        table.add_row(name, *(f"{m[f'{metric}@{k}']:.4f}" for k in (5, 10, 20) for metric in ("recall", "ndcg")))
    Console().print(table)
    Console().print(
        f"target under the picked descriptors: {result['target_under_picks']:.1%}; "
        f"descriptors picked per user: {result['mean_picked']:.2f} ({result['abstained']} abstained); "
        f"oracle: the target's own descriptor; wrote {Path(run_dir) / CRITIQUE_FILE}"
    )
