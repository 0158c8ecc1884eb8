"""LaMAR's diversity analysis (its Figure 2): how alike the generated values are across items, and how much they
repeat the item's existing fields, measured with sentence embeddings; the item titles are measured the same way as a
reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.augment import artifacts
from agenticrec.augment.config import AugmentConfig
from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.io import write_json

CHUNK = 2048  # rows of the similarity matrix held at once


def similarity_profile(vectors: np.ndarray, thresholds: list[float], crowded_share: float) -> dict[str, list[float]]:
    """Per threshold: the share of item pairs at least that similar, and the share of items that many other items
    (more than ``crowded_share`` of them) are at least that similar to. ``vectors`` are unit rows."""
    n = len(vectors)
    pairs = np.zeros(len(thresholds))
    crowded = np.zeros(len(thresholds))
    for start in range(0, n, CHUNK):
        block = vectors[start : start + CHUNK] @ vectors.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf  # an item is not its own pair
        for k, threshold in enumerate(thresholds):
            above = (block >= threshold).sum(axis=1)
            pairs[k] += above.sum()
            crowded[k] += (above > crowded_share * (n - 1)).sum()
    total = max(n * (n - 1), 1)
    return {"pairs_above": (pairs / total).tolist(), "crowded_items": (crowded / max(n, 1)).tolist()}


def run_diversity(dataset: Dataset, config: AugmentConfig, run_dir: Path) -> dict[str, Any]:
    """Write diversity.json and diversity.png for the kept values of signal.parquet."""
    artifacts.require(run_dir, artifacts.VALUES)
    signal = pd.read_parquet(artifacts.augment_dir(run_dir) / artifacts.SIGNAL)
    column = next(c for c in signal.columns if c != "item_id")
    signal = signal[signal[column].notna()]  # items whose value failed or was dropped have none
    indices = [dataset.item_index(i) for i in signal["item_id"]]
    reference_field = dataset.text_fields[0]
    rows = dataset.items.iloc[[i - 1 for i in indices]]
    cache = run_dir / "cache"
    values = embed_texts(signal[column].tolist(), config.embedding_model, cache_dir=cache, progress=False)
    titles = embed_texts(rows[reference_field].astype(str).tolist(), config.embedding_model, cache_dir=cache,
                         progress=False)  # fmt: skip
    result: dict[str, Any] = {
        "items": len(signal),
        "column": column,
        "thresholds": config.thresholds,
        "crowded_share": config.crowded_share,
        "signal": similarity_profile(values, config.thresholds, config.crowded_share),
        reference_field: similarity_profile(titles, config.thresholds, config.crowded_share),
        f"similarity_to_{reference_field}_mean": float((values * titles).sum(axis=1).mean()),
    }
    categories = dataset.categories()
    if categories is not None:
        cats = embed_texts([str(categories[i - 1]) for i in indices], config.embedding_model, cache_dir=cache,
                           progress=False)  # fmt: skip
        result["similarity_to_category_mean"] = float((values * cats).sum(axis=1).mean())
    for threshold, share in zip(config.thresholds, result["signal"]["pairs_above"]):
        result[f"signal_pairs_above_{threshold:g}".replace(".", "_")] = share
    write_json(artifacts.augment_dir(run_dir) / artifacts.DIVERSITY, result)
    plot(result, reference_field, artifacts.augment_dir(run_dir) / artifacts.DIVERSITY_PLOT)
    return result


def plot(result: dict[str, Any], reference: str, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agenticrec.io import atomic_path

    figure = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(figure)
    thresholds = result["thresholds"]
    for axis, key, label in zip(
        figure.subplots(1, 2),
        ("pairs_above", "crowded_items"),
        ("share of item pairs at least this similar", f"share of items similar to > {result['crowded_share']:.0%}"),
    ):
        for name, style in ((result["column"], "o-"), (reference, "s--")):
            source = result["signal" if name == result["column"] else reference]
            axis.plot(thresholds, source[key], style, label=name)
        axis.set_xlabel("cosine similarity threshold")
        axis.set_ylabel(label, fontsize=8)
        axis.set_yscale("symlog", linthresh=1e-3)
        axis.legend(fontsize=7)
    figure.suptitle(f"diversity of the generated {result['column']} ({result['items']} items)", fontsize=9)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format="png")
