"""Amazon 2018 Industrial & Scientific 5-core in the UniSRec / RecFormer processing (``amazon2018-scientific-unisrec``),
the "Scientific" set of the LaMAR paper.

``sequences.txt`` holds ``user_index item_index ...`` (0-based, chronological); ``items.jsonl`` holds each item's
``unisrec_text`` ("title. categories. brand.") and, for most items, title, brand, comma-joined categories and
description joined from another build of the same category. An item without its own title gets its UniSRec text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from agenticrec.data.amazon_s3rec import read_sequences
from agenticrec.data.build import check_unique
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import iter_json_lines, require_file
from agenticrec.errors import ConfigError, DataError

FIELDS = ["title", "brand", "categories", "description"]


class ScientificOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: str = "amazon2018-scientific-unisrec"
    text_fields: list[str] = ["title", "brand", "categories"]
    path: Path | None = None  # a folder that replaces data_dir/folder


def read_items(path: Path) -> pd.DataFrame:
    rows = []
    for number, record in iter_json_lines(require_file(path, "items file")):
        missing = [key for key in ("item_index", "asin", "unisrec_text") if key not in record]
        if missing:
            raise DataError(f"{path}, line {number}: record has no {', '.join(map(repr, missing))}")
        categories = record.get("categories")
        rows.append(
            {
                "item_id": str(record["asin"]),
                "item_index": str(record["item_index"]),
                "title": record.get("title") or record["unisrec_text"].strip(),
                "brand": record.get("brand"),
                "categories": " > ".join(c.strip() for c in categories.split(",")) if categories else None,
                "description": record.get("description"),
            }
        )
    return pd.DataFrame(rows)


def load(name: str, options: ScientificOptions, data_dir: Path | None) -> Dataset:
    if options.path is None and data_dir is None:
        raise DataError(f"{name}: no data directory; set data.data_dir or $AGENTICREC_DATA_DIR")
    folder = options.path or data_dir / options.folder  # type: ignore[operator]
    unknown = [f for f in options.text_fields if f not in FIELDS]
    if unknown:
        raise ConfigError(f"{name}: unknown text field(s) {', '.join(unknown)}; available: {', '.join(FIELDS)}")
    items = read_items(folder / "items.jsonl")
    check_unique(items, "item_id", folder / "items.jsonl")
    known = {index: position + 1 for position, index in enumerate(items["item_index"])}
    users, sequences = read_sequences(folder / "sequences.txt", known)
    return Dataset(
        name=name,
        items=items[["item_id", *dict.fromkeys([*options.text_fields, "categories", "brand"])]],
        user_ids=users,
        sequences=sequences,
        text_fields=options.text_fields,
        category_field="categories",
        brand_field="brand",
    )
