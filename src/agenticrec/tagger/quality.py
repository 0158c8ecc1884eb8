"""Vocabulary quality measured without people: how evenly the paths spread the catalogue, whether names are
copies of item titles, and agreement with the catalogue's own categories where it has them (Amazon's category
paths). The report adds utilisation and the spread per descriptor (report.py)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from agenticrec.tagger.grounding import copied_titles
from agenticrec.tagger.vocabulary import Vocabulary

CATEGORY_LEVELS = (2, 3)
"""Amazon category levels compared with the descriptors (level 1 is the store, e.g. "Beauty")."""


def vocabulary_quality(
    vocabulary: Vocabulary, table: pd.DataFrame, texts: list[str], categories: pd.Series | None
) -> dict[str, Any]:
    """Figures of an assignment table (one row per item, `descriptor_ids` paths) against its vocabulary.

    The path entropy is normalised by the log of the number of distinct paths: 1 when every path holds as many
    items as every other.

    `categories` holds the catalogue's category paths per item (``A > B > C | ...``, first path used), or None.
    """
    paths = [tuple(p) for p in table["descriptor_ids"]]
    counts = np.array(list(Counter(paths).values()), dtype=float)
    shares = counts / counts.sum()
    entropy = float(-(shares * np.log(shares)).sum())
    figures: dict[str, Any] = {
        "largest_path_share": float(shares.max()),
        "path_entropy_normalised": entropy / math.log(len(counts)) if len(counts) > 1 else 0.0,
        "names_copied_from_titles": copied_names([d.name for d in vocabulary.descriptors], texts),
    }
    if categories is not None:
        figures |= category_agreement(table, categories)
    return figures


def copied_names(names: list[str], texts: list[str]) -> int:
    """How many descriptor names are (near-)copies of some item's title."""
    return sum(title is not None for title in copied_titles(names, texts))


def category_agreement(table: pd.DataFrame, categories: pd.Series) -> dict[str, float]:
    """NMI and ARI of level-1 descriptors and of leaf paths against the catalogue's category levels 2 and 3,
    over the items whose first category path reaches that level."""
    first = [str(c).split(" | ")[0].split(" > ") if isinstance(c, str) and c else [] for c in categories]
    level1 = [p[0] if p else "" for p in table["descriptor_ids"]]
    leaves = ["/".join(p) for p in table["descriptor_ids"]]
    out: dict[str, float] = {}
    for level in CATEGORY_LEVELS:
        keep = [i for i, path in enumerate(first) if len(path) >= level]
        if len(keep) < 2:
            continue
        truth = [first[i][level - 1] for i in keep]
        for name, ours in (("level1", level1), ("leaf", leaves)):
            predicted = [ours[i] for i in keep]
            out[f"{name}_nmi_category{level}"] = float(normalized_mutual_info_score(truth, predicted))
            out[f"{name}_ari_category{level}"] = float(adjusted_rand_score(truth, predicted))
    return out
