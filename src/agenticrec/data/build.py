"""Turn an items table and an interactions table into a validated Dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agenticrec.data.dataset import MIN_SEQUENCE_LENGTH, Dataset
from agenticrec.errors import DataError


def check_unique(frame: pd.DataFrame, column: str, path: Path) -> None:
    duplicated = frame[column].duplicated(keep="first")
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise DataError(
            f"{path}, record {row['_record']}: duplicate {column} {row[column]!r} "
            f"({int(duplicated.sum())} duplicates in all)"
        )


def k_core(interactions: pd.DataFrame, k: int) -> pd.DataFrame:
    """Iteratively keep users and items with at least ``k`` interactions (the Amazon "5-core" filter)."""
    frame = interactions
    while True:
        user_counts = frame.groupby("user_id")["item_id"].transform("size")
        item_counts = frame.groupby("item_id")["user_id"].transform("size")
        keep = (user_counts >= k) & (item_counts >= k)
        if keep.all():
            return frame
        frame = frame[keep]


def build_dataset(
    name: str,
    items: pd.DataFrame,
    interactions: pd.DataFrame,
    *,
    items_path: Path,
    interactions_path: Path,
    text_fields: list[str],
    drop_short_users: bool = False,
    category_field: str | None = None,
    brand_field: str | None = None,
) -> Dataset:
    """Validate ids, order each user's interactions by ``timestamp`` (ties keep file order) and build sequences.

    ``items`` needs ``item_id``; ``interactions`` needs ``user_id``, ``item_id`` and ``timestamp`` (numeric
    seconds, a datetime, or a constant when the file has no times) and may have ``behaviour``; both need
    ``_record`` (see :func:`agenticrec.data.readers.read_table`). Items never interacted with are dropped
    from the catalogue, since no split can ever hold them.
    """
    items = items.assign(item_id=items["item_id"].astype(str))
    interactions = interactions.assign(
        item_id=interactions["item_id"].astype(str), user_id=interactions["user_id"].astype(str)
    )
    check_unique(items, "item_id", items_path)

    known = interactions["item_id"].isin(set(items["item_id"]))
    if not known.all():
        row = interactions[~known].iloc[0]
        raise DataError(
            f"{interactions_path}, record {row['_record']}: unknown item id {row['item_id']!r} "
            f"(not in {items_path}; {int((~known).sum())} such interactions)"
        )

    interactions = interactions.sort_values(["user_id", "timestamp", "_record"], kind="stable")
    lengths = interactions.groupby("user_id", sort=False)["item_id"].transform("size")
    short = lengths < MIN_SEQUENCE_LENGTH
    if short.any():
        n_short = interactions.loc[short, "user_id"].nunique()
        if not drop_short_users:
            example = interactions.loc[short, "user_id"].iloc[0]
            raise DataError(
                f"{interactions_path}: {n_short} users have fewer than {MIN_SEQUENCE_LENGTH} interactions, "
                f"e.g. user {example!r}; leave-one-out needs at least {MIN_SEQUENCE_LENGTH}. "
                "Set data.options.drop_short_users=true to drop them."
            )
        interactions = interactions[~short]
    if interactions.empty:
        raise DataError(f"{interactions_path}: no interactions left (the file has none, or all were filtered out)")

    used = pd.unique(interactions["item_id"])
    items = items[items["item_id"].isin(set(used))].reset_index(drop=True)
    index_of = pd.Series(np.arange(1, len(items) + 1), index=items["item_id"])
    codes = index_of.loc[interactions["item_id"]].to_numpy()
    users, starts = np.unique(interactions["user_id"].to_numpy(), return_index=True)
    order = np.argsort(starts)
    boundaries = np.append(starts[order], len(codes))
    cuts = [(boundaries[i], boundaries[i + 1]) for i in range(len(order))]
    sequences = [codes[a:b].astype(np.int64) for a, b in cuts]
    seconds = _seconds(interactions["timestamp"])
    behaviour = interactions["behaviour"].astype(str).to_numpy() if "behaviour" in interactions else None
    fields = [f for f in text_fields if f in items.columns]
    described = [f for f in (category_field, brand_field) if f]
    columns = list(dict.fromkeys(["item_id", *fields, *described]))
    return Dataset(
        name=name,
        items=items[columns].copy(),
        user_ids=[str(u) for u in users[order]],
        sequences=sequences,
        text_fields=fields,
        timestamps=None if seconds is None else [seconds[a:b] for a, b in cuts],
        behaviours=None if behaviour is None else [behaviour[a:b] for a, b in cuts],
        category_field=category_field,
        brand_field=brand_field,
    )


def _seconds(stamps: pd.Series) -> np.ndarray | None:
    """Unix seconds per interaction; None when the source has no times (one constant value)."""
    if pd.api.types.is_datetime64_any_dtype(stamps):
        values = (stamps - pd.Timestamp(0, tz=stamps.dt.tz)).dt.total_seconds().to_numpy()
    else:
        values = pd.to_numeric(stamps).to_numpy(dtype=np.float64)
    return None if len(values) == 0 or np.all(values == values[0]) else values
