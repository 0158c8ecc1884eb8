"""Tables a person reads in the terminal: test metrics of runs, and ranked lists with their semantic IDs."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.table import Table

from agenticrec.data import Dataset
from agenticrec.semantic_ids import SemanticIDs

TABLE_METRICS = {
    "recall@10": "R@10",
    "ndcg@10": "N@10",
    "ndcg@20": "N@20",
    "mrr": "MRR",
    "coverage@10": "cov@10",
    "exposure@10_tail": "tail@10",
}


def results_table(rows: dict[str, dict[str, Any]], title: str) -> Table:
    table = Table("run", *TABLE_METRICS.values(), "train s", title=title)
    for name, result in rows.items():
        test = result.get("test", {})  # a proxy trial (evaluate.test=false) has validation metrics only
        seconds = result.get("train", {}).get("train_seconds")
        cells = (f"{test[m]:.4f}" if m in test else "-" for m in TABLE_METRICS)
        table.add_row(name, *cells, f"{seconds:.0f}" if seconds else "-")
    return table


def recommendation_rows(
    dataset: Dataset,
    ids: SemanticIDs | None,
    items: np.ndarray,
    scores: np.ndarray,
    target: int | None = None,
    score_label: str = "log p",
) -> list[dict[str, str]]:
    """One row per listed item (id, its semantic ID where the run has them, text, score; with ``target``, whether
    it is it)."""
    rows = []
    for item, score in zip(items.tolist(), scores.tolist()):
        if np.isfinite(score):
            row = {"item": str(dataset.items["item_id"].iloc[item - 1])}
            row |= {"semantic ID": ids.label(item)} if ids is not None else {}
            row |= {"text": dataset.item_text(item)[:80], score_label: f"{score:.2f}"}
            rows.append(row | ({"target": "yes" if item == target else ""} if target is not None else {}))
    return rows


def rows_table(rows: list[dict[str, str]], title: str) -> Table:
    table = Table("#", *(rows[0] if rows else ()), title=title)
    for rank, row in enumerate(rows, start=1):
        table.add_row(str(rank), *row.values())
    return table
