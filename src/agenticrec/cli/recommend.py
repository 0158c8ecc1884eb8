"""``agenticrec recommend``: a trained run's list for a user, optionally kept under level-1 descriptors."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import load_run
from agenticrec.pipeline.tables import recommendation_rows, rows_table


def recommend(
    run_dir: Path = typer.Argument(help="a run directory of a trained model"),
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
