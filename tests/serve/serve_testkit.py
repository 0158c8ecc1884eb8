"""A tea shop whose users buy within one category, and the runs served over it: popularity, SASRec and generative
retrieval over category-path IDs (level 1: Tea or Coffee)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agenticrec.testing.catalogues import files_catalogue

CATEGORIES = ["Shop > Tea > Green", "Shop > Tea > Black", "Shop > Coffee > Beans"]
PER_CATEGORY = 8
KEY = "test-key-0123456789abcdef"
MODELS = {
    "popularity": ["model.name=popularity"],
    "sasrec": ["model.name=sasrec", "model.hidden_size=16", "model.max_len=8", "train.epochs=3"],
    "generative": [
        "model.name=generative",
        "semantic_ids.method=categories",
        "model.num_layers=1",
        "model.d_model=16",
        "model.d_ff=32",
        "model.num_heads=2",
        "model.d_kv=8",
        "model.max_items=5",
        "model.beam=10",
        "train.epochs=2",
    ],
}


def write_shop(folder: Path, users: int = 120, seed: int = 0) -> list[str]:
    """Users who each buy 4-6 items of one category; returns the data overrides that load them."""
    rng = np.random.default_rng(seed)
    items = [
        {"item_id": f"i{c * PER_CATEGORY + k + 1}", "title": f"{path.split(' > ')[-1]} tea {k}", "categories": path}
        for c, path in enumerate(CATEGORIES)
        for k in range(PER_CATEGORY)
    ]
    events = []
    for u in range(users):
        c = int(rng.integers(len(CATEGORIES)))
        for k in rng.choice(PER_CATEGORY, size=int(rng.integers(4, 7)), replace=False):
            events.append((f"u{u}", f"i{c * PER_CATEGORY + int(k) + 1}"))
    return files_catalogue(folder, pd.DataFrame(items), events, category_field="categories")
