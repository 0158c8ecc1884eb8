"""Tiny catalogues written as the ``files`` dataset (items.csv and events.csv), for tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def files_catalogue(
    folder: Path,
    items: pd.DataFrame,
    events: list[tuple[str, str]],
    category_field: str | None = None,
    brand_field: str | None = None,
) -> list[str]:
    """Write ``items`` (item_id and fields) and ``events`` ((user, item) in order, no timestamps) into ``folder``;
    return the data overrides that load them."""
    items.to_csv(folder / "items.csv", index=False)
    pd.DataFrame(events, columns=["user_id", "item_id"]).to_csv(folder / "events.csv", index=False)
    overrides = [
        "data.name=files",
        f"data.options.items={folder / 'items.csv'}",
        f"data.options.interactions={folder / 'events.csv'}",
        "data.options.columns.timestamp=null",
    ]
    overrides += [f"data.options.category_field={category_field}"] if category_field else []
    return overrides + ([f"data.options.brand_field={brand_field}"] if brand_field else [])


def successor_shop(folder: Path, titles: list[str], users: int, steps: int) -> list[str]:
    """Items ``i0, i1, ...`` with ``titles``, and users who walk through them in order (user u buys items u, u + 1,
    ... modulo the catalogue, ``steps`` of them): the next item always follows the last one."""
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(len(titles))], "title": titles})
    events = [(f"u{u}", f"i{(u + s) % len(titles)}") for u in range(users) for s in range(steps)]
    return files_catalogue(folder, items, events)
