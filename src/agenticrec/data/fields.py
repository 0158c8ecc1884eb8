"""Extra item fields joined onto a catalogue (e.g. a generated item signal), and the choice of text fields."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from agenticrec.data.build import check_unique
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import read_table, require_columns
from agenticrec.errors import DataError


def with_item_fields(dataset: Dataset, tables: list[Path], text_fields: list[str] | None) -> Dataset:
    """``dataset`` with the columns of each table (``item_id`` plus fields) joined onto its items, and with
    ``text_fields`` (in order) as the fields of its item text when given.

    A table has one row per catalogue item, no more and no fewer (an item without a value has an empty cell), so a
    table made for another catalogue or cut short is refused with the ids named, never joined silently.
    """
    items = dataset.items
    for path in tables:
        table = read_table(path)
        require_columns(table, ["item_id"], path)
        table = table.assign(item_id=table["item_id"].astype(str))
        check_unique(table, "item_id", path)
        unknown = ~table["item_id"].isin(set(items["item_id"]))
        if unknown.any():
            row = table[unknown].iloc[0]
            raise DataError(
                f"{path}, record {row['_record']}: item id {row['item_id']!r} is not in {dataset.name} "
                f"({int(unknown.sum())} such rows; was the table made for another catalogue?)"
            )
        missing = sorted(set(items["item_id"]) - set(table["item_id"]))
        if missing:
            raise DataError(
                f"{path}: {len(missing)} catalogue items of {dataset.name} have no row, e.g. {', '.join(missing[:5])} "
                "(give every item a row, with an empty value where it has none)"
            )
        clash = sorted(set(table.columns) & set(items.columns) - {"item_id"})
        if clash:
            raise DataError(f"{path}: column(s) {', '.join(clash)} already exist in {dataset.name}'s items")
        items = items.merge(table.drop(columns="_record"), on="item_id", how="left")
    fields = dataset.text_fields if text_fields is None else text_fields
    missing = [f for f in fields if f not in items.columns]
    if missing:
        available = ", ".join(c for c in items.columns if c != "item_id")
        raise DataError(f"{dataset.name}: text field(s) {', '.join(missing)} are not item columns ({available})")
    return dataclasses.replace(dataset, items=pd.DataFrame(items), text_fields=list(fields))
