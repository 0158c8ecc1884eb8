"""Shared helpers of the data-loader tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agenticrec.data import Dataset


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    """Write text lines, gzip-compressed when the name ends in ``.gz``."""
    text = "".join(f"{line}\n" for line in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    return write_lines(path, (json.dumps(record) for record in records))


def external_sequences(dataset: Dataset) -> dict[str, list[str]]:
    """``user id -> [external item id, ...]`` in the dataset's (chronological) order."""
    item_ids = dataset.items["item_id"].astype(str).tolist()
    return {
        user: [item_ids[index - 1] for index in seq.tolist()] for user, seq in zip(dataset.user_ids, dataset.sequences)
    }
