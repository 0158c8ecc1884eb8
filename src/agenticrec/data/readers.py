"""Reading tabular input files with errors that name the file, the record and the problem."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from agenticrec.errors import DataError

TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    return path


def open_text(path: Path) -> IO[str]:
    """Open a text file, transparently decompressing ``.gz``."""
    require_file(path, "file")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def iter_json_lines(path: Path, parse: Callable[[str], Any] = json.loads) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for every non-blank line; a malformed line is a DataError."""
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = parse(line.strip())  # no "line 2" from the parser for a trailing newline
            except (ValueError, SyntaxError, TypeError) as exc:
                raise DataError(f"{path}, line {number}: malformed record ({exc})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}, line {number}: expected an object, got {type(record).__name__}")
            yield number, record


def read_table(path: Path) -> pd.DataFrame:
    """Read JSONL/CSV/TSV/Parquet (optionally gzipped text) into a DataFrame with a ``_record`` column.

    ``_record`` is the 1-based line number for JSONL and the 1-based data row for CSV/TSV/Parquet,
    so later checks can point at the offending record.
    """
    require_file(path, "table")
    suffix = path.suffix if path.suffix != ".gz" else Path(path.stem).suffix
    try:
        if suffix in (".jsonl", ".json"):
            rows = [dict(record, _record=number) for number, record in iter_json_lines(path)]
            frame = pd.DataFrame(rows)
        elif suffix in (".csv", ".tsv"):
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
            frame["_record"] = range(1, len(frame) + 1)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
            frame["_record"] = range(1, len(frame) + 1)
        else:
            raise DataError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = ", ".join(c for c in frame.columns if c != "_record")
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (found: {present or 'none'})")
