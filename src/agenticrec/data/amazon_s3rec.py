"""Amazon 2014 5-core benchmark files in the S3-Rec / P5 / TIGER format (sequence file + ``items.jsonl``).

The sequence file has one line per user: ``user_id item_id item_id ...`` in chronological order, item ids
starting at 1; ``items.jsonl`` has one object per item keyed by ``item_id``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from agenticrec.data.build import check_unique
from agenticrec.data.dataset import MIN_SEQUENCE_LENGTH, Dataset
from agenticrec.data.readers import iter_json_lines, open_text, require_file
from agenticrec.errors import ConfigError, DataError


class S3RecOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: str
    sequence_file: str
    text_fields: list[str]
    path: Path | None = None  # a folder that replaces data_dir/folder


def _join_categories(paths: object) -> str | None:
    """``[["Beauty", "Makeup", "Nails"], ...]`` -> ``"Beauty > Makeup > Nails | ..."``."""
    if not isinstance(paths, list) or not paths:
        return None
    return " | ".join(" > ".join(str(p) for p in path) for path in paths if path)


def read_items(path: Path) -> pd.DataFrame:
    rows = []
    columns = ["item_id", "title", "brand", "categories", "keywords", "asin", "_record"]
    for number, record in iter_json_lines(require_file(path, "items file")):
        if "item_id" not in record:
            raise DataError(f"{path}, line {number}: record has no 'item_id'")
        categories = record.get("categories", record.get("categories_s3rec_decoded"))
        rows.append(
            {
                "item_id": str(record["item_id"]),
                "title": record.get("title"),
                "brand": record.get("brand"),
                "categories": _join_categories(categories),
                "keywords": record.get("idgenrec_textual_id"),
                "asin": record.get("asin"),
                "_record": number,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def read_sequences(path: Path, known: dict[str, int]) -> tuple[list[str], list[np.ndarray]]:
    users: list[str] = []
    sequences: list[np.ndarray] = []
    seen: set[str] = set()
    with open_text(require_file(path, "sequence file")) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            user, items = fields[0], fields[1:]
            if user in seen:
                raise DataError(f"{path}, line {number}: duplicate user id {user!r}")
            seen.add(user)
            try:
                codes = [known[item] for item in items]
            except KeyError as exc:
                raise DataError(f"{path}, line {number}: unknown item id {exc.args[0]!r}") from None
            if len(codes) < MIN_SEQUENCE_LENGTH:
                raise DataError(
                    f"{path}, line {number}: user {user!r} has {len(codes)} interactions; "
                    f"leave-one-out needs at least {MIN_SEQUENCE_LENGTH}"
                )
            users.append(user)
            sequences.append(np.asarray(codes, dtype=np.int64))
    return users, sequences


def load(name: str, options: S3RecOptions, data_dir: Path | None) -> Dataset:
    if options.path is not None:
        folder = options.path
    elif data_dir is not None:
        folder = data_dir / options.folder
    else:
        raise DataError(f"{name}: no data directory; set data.data_dir or $AGENTICREC_DATA_DIR")
    items = read_items(folder / "items.jsonl")
    available = ["title", "brand", "categories", "keywords"]
    unknown = [f for f in options.text_fields if f not in available]
    if unknown:
        raise ConfigError(f"{name}: unknown text field(s) {', '.join(unknown)}; available: {', '.join(available)}")
    check_unique(items, "item_id", folder / "items.jsonl")
    known = {item_id: i + 1 for i, item_id in enumerate(items["item_id"])}
    users, sequences = read_sequences(folder / options.sequence_file, known)
    fields = [f for f in options.text_fields if items[f].notna().any()]
    return Dataset(
        name=name,
        items=items[list(dict.fromkeys(["item_id", "asin", *fields, "categories", "brand"]))],
        user_ids=users,
        sequences=sequences,
        text_fields=fields,
        category_field="categories",
        brand_field="brand",
    )
