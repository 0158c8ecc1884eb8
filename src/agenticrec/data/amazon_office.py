"""Amazon 2014 Office Products 5-core with real timestamps (ReChorus/LRD release, ``amazon2014-office-5core``).

``sequences_with_time.tsv`` holds ``user_id item_id timestamp`` (unix seconds); ``items.jsonl`` holds each item's
text (title, leaf category and brand run together) and integer category and brand ids. The release publishes no
category names, so a category is named by the words that set its items' texts apart (``cartridge, ink, printer``;
see :mod:`agenticrec.data.category_names`): MiniLM and an LLM can read such a name, not ``category 6``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from agenticrec.data.build import build_dataset
from agenticrec.data.category_names import keyphrase_names
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import iter_json_lines, require_file
from agenticrec.errors import DataError


class OfficeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: str = "amazon2014-office-5core"
    path: Path | None = None  # a folder that replaces data_dir/folder


def read_items(path: Path) -> pd.DataFrame:
    rows = []
    for number, record in iter_json_lines(require_file(path, "items file")):
        missing = [key for key in ("item_id", "text", "category_id") if key not in record]
        if missing:
            raise DataError(f"{path}, line {number}: record has no {', '.join(map(repr, missing))}")
        rows.append(
            {
                "item_id": str(record["item_id"]),
                "text": record["text"],
                "category": str(record["category_id"]),
                "brand": f"brand {record['brand_id']}" if record.get("brand_id") is not None else None,
                "_record": number,
            }
        )
    items = pd.DataFrame(rows)
    items["category"] = items["category"].map(keyphrase_names(items["text"].tolist(), items["category"].tolist()))
    return items


def load(name: str, options: OfficeOptions, data_dir: Path | None) -> Dataset:
    if options.path is None and data_dir is None:
        raise DataError(f"{name}: no data directory; set data.data_dir or $AGENTICREC_DATA_DIR")
    folder = options.path or data_dir / options.folder  # type: ignore[operator]
    items_path, inter_path = folder / "items.jsonl", folder / "sequences_with_time.tsv"
    try:
        inter = pd.read_csv(require_file(inter_path, "interactions file"), sep="\t", dtype={"user_id": str})
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{inter_path}: cannot read ({exc})") from None
    if list(inter.columns) != ["user_id", "item_id", "timestamp"]:
        raise DataError(f"{inter_path}: expected columns user_id, item_id, timestamp; found {list(inter.columns)}")
    inter["_record"] = range(2, len(inter) + 2)  # line numbers, after the header
    return build_dataset(
        name,
        read_items(items_path),
        inter,
        items_path=items_path,
        interactions_path=inter_path,
        text_fields=["text"],
        category_field="category",
        brand_field="brand",
    )
