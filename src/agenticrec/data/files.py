"""A user's own catalogue and interaction files (JSONL, CSV, TSV or Parquet) with a column mapping.

Example config::

    data:
      name: files
      options:
        items: catalogue.parquet
        interactions: events.csv
        columns: {item_id: sku, user_id: customer, timestamp: ts, behaviour: event_type}
        text_fields: [title, brand, category]
        category_field: category
        brand_field: brand
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from agenticrec.data.build import build_dataset
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import read_table, require_columns
from agenticrec.errors import DataError


class ColumnMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str = "item_id"
    user_id: str = "user_id"
    timestamp: str | None = Field("timestamp", description="None: interactions are already in time order")
    behaviour: str | None = Field(None, description="the interaction's behaviour type or value, e.g. a rating")


class FilesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Path
    interactions: Path
    columns: ColumnMap = Field(default_factory=ColumnMap)
    text_fields: list[str] = Field(default_factory=lambda: ["title"])
    category_field: str | None = Field(None, description="the items column holding each item's category")
    brand_field: str | None = Field(None, description="the items column holding each item's brand")
    drop_short_users: bool = False


def _blank(values: pd.Series) -> pd.Series:
    """Missing (JSONL null, Parquet null) or empty (a CSV/TSV field is read as "")."""
    return values.isna() | values.astype(str).str.strip().eq("")


def _timestamps(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):  # e.g. a Parquet timestamp column; NaT is missing
        parsed, bad = values, values.isna()
    else:
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all():
            return numeric
        # ISO 8601 in any precision or offset (vectorised), then other date formats value by value; a single
        # inferred format would reject e.g. isoformat() output that mixes whole and fractional seconds
        text = values.astype(str)
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
        bad = parsed.isna()
        if (bad & numeric.isna()).any():  # name a value that is neither a number nor a time, if there is one
            bad = bad & numeric.isna()
    if bad.any():
        row = frame[bad].iloc[0]
        raise DataError(f"{path}, record {row['_record']}: cannot read {column} {row[column]!r} as a time")
    return parsed


def load(name: str, options: FilesOptions, data_dir: Path | None) -> Dataset:
    cols = options.columns
    items = read_table(options.items)
    described = [f for f in (options.category_field, options.brand_field) if f]
    require_columns(items, [cols.item_id, *options.text_fields, *described], options.items)
    inter = read_table(options.interactions)
    optional = [c for c in (cols.timestamp, cols.behaviour) if c]
    require_columns(inter, [cols.user_id, cols.item_id, *optional], options.interactions)
    missing_ids = _blank(inter[cols.item_id]) | _blank(inter[cols.user_id])
    if missing_ids.any():
        row = inter[missing_ids].iloc[0]
        raise DataError(f"{options.interactions}, record {row['_record']}: empty {cols.user_id} or {cols.item_id}")
    interactions = pd.DataFrame(
        {
            "user_id": inter[cols.user_id],
            "item_id": inter[cols.item_id],
            "timestamp": _timestamps(inter, cols.timestamp, options.interactions) if cols.timestamp else 0,
            "_record": inter["_record"],
            **({"behaviour": inter[cols.behaviour]} if cols.behaviour else {}),
        }
    )
    items = items.rename(columns={cols.item_id: "item_id"})
    return build_dataset(
        name,
        items,
        interactions,
        items_path=options.items,
        interactions_path=options.interactions,
        text_fields=options.text_fields,
        drop_short_users=options.drop_short_users,
        category_field=options.category_field,
        brand_field=options.brand_field,
    )
