"""``agenticrec recommend`` and ``agenticrec critique``: a trained generative run's lists, steered by descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import load_run
from agenticrec.semantic_ids.codes import SemanticIDs

RunDirArgument = typer.Argument(help="a run directory of a trained generative model")


def allowed_mask(ids: SemanticIDs, allow: list[str]) -> np.ndarray | None:
    """Items under the given level-1 tokens or names (e.g. descriptor ``3`` or ``Skin Care``), None for all."""
    from agenticrec.critique.simulated_user import level1_options

    if not allow:
        return None
    options = level1_options(ids)
    lookup = {o.token: o.token for o in options} | {o.name.casefold(): o.token for o in options}
    unknown = [a for a in allow if a not in lookup and a.casefold() not in lookup]
    if unknown:
        known = ", ".join(f"{o.token} ({o.name})" for o in options)
        raise AgenticRecError(f"unknown level-1 descriptor(s) {unknown}; choose from: {known}")
    return ids.items_under([(lookup.get(a) or lookup[a.casefold()],) for a in allow])


def recommendation_rows(dataset: Dataset, ids: SemanticIDs, items: np.ndarray, scores: np.ndarray,
                        target: int | None = None) -> list[dict[str, str]]:
    """One row per listed item (id, semantic ID, text, beam log-probability; with ``target``, whether it is it)."""
    rows = []
    for item, score in zip(items.tolist(), scores.tolist()):
        if np.isfinite(score):
            row = {"item": str(dataset.items["item_id"].iloc[item - 1]), "semantic ID": ids.label(item),
                   "text": dataset.item_text(item)[:80], "log p": f"{score:.2f}"}
            rows.append(row | ({"target": "yes" if item == target else ""} if target is not None else {}))
    return rows


def rows_table(rows: list[dict[str, str]], title: str) -> Table:
    table = Table("#", *(rows[0] if rows else ()), title=title)
    for rank, row in enumerate(rows, start=1):
        table.add_row(str(rank), *row.values())
    return table


def recommend(
    run_dir: Path = RunDirArgument,
    user: str = typer.Option(..., "--user", "-u", help="user id as in the dataset"),
    k: int = typer.Option(10, "-k", help="list length (at most the beam width searched)"),
    allow: list[str] = typer.Option([], "--allow", "-a", help="level-1 descriptor id or name to keep (repeatable)"),
) -> None:
    """Recommend the next items for a user from their whole history, optionally only under chosen descriptors."""
    run = load_run(run_dir)
    from agenticrec.critique.experiment import generative_model

    model = generative_model(run.model, run_dir)
    try:
        history = run.dataset.sequences[run.dataset.user_ids.index(user)]
    except ValueError:
        raise AgenticRecError(f"{run.dataset.name}: unknown user id {user!r}") from None
    items, scores = model.recommend([history], k=k, allowed=allowed_mask(model.tokenizer.ids, allow))
    title = f"user {user} ({len(history)} interactions)" + (f", only under {', '.join(allow)}" if allow else "")
    Console().print(rows_table(recommendation_rows(run.dataset, model.tokenizer.ids, items[0], scores[0]), title))


def critique(
    run_dir: Path = RunDirArgument,
    users: int = typer.Option(5000, help="test users to sample (seeded)"),
    seed: int = typer.Option(0, help="sampling seed"),
) -> None:
    """Single-turn critique experiment: an LLM user picks level-1 descriptors of the wanted item; vanilla vs critique."""
    from agenticrec.critique.experiment import CRITIQUE_FILE, run_critique

    result = run_critique(run_dir, users, seed)
    table = Table("decoding", "R@5", "N@5", "R@10", "N@10", "R@20", "N@20",
                  title=f"critique on {result['users']} test users")
    for name in ("vanilla", "critique"):
        m = result[name]
        table.add_row(name, *(f"{m[f'{metric}@{k}']:.4f}" for k in (5, 10, 20) for metric in ("recall", "ndcg")))
    Console().print(table)
    Console().print(f"target under the picked descriptors: {result['target_under_picks']:.1%}; "
                    f"wrote {Path(run_dir) / CRITIQUE_FILE}")
