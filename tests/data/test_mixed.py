"""The mixed dataset: several datasets as one, ids prefixed by their origin, no sequence crossing two parts."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agenticrec.data.mixed import mix
from agenticrec.data.registry import load_dataset
from agenticrec.errors import ConfigError, DataError
from agenticrec.testing.catalogues import files_catalogue


def shop(folder: Path, titles: list[str], field: str, users: int) -> dict[str, Any]:
    """A `files` dataset's options: items with one text ``field``, users buying three items in turn."""
    folder.mkdir()
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(len(titles))], field: titles})
    events = [(f"u{u}", f"i{(u + s) % len(titles)}") for u in range(users) for s in range(3)]
    files_catalogue(folder, items, events)
    return {
        "items": str(folder / "items.csv"),
        "interactions": str(folder / "events.csv"),
        "columns": {"timestamp": None},
        "text_fields": [field],
    }


def test_mixes_parts_with_prefixed_ids_and_the_union_of_their_fields(tmp_path):
    kitchen = load_dataset("files", shop(tmp_path / "kitchen", ["kettle", "teapot", "mug"], "title", users=4))
    garden = replace(
        load_dataset("files", shop(tmp_path / "garden", ["spade", "rake"], "name", users=2)), name="garden"
    )
    mixed = mix("mixed", [kitchen, garden])
    assert (mixed.n_items, mixed.n_users) == (5, 6)
    assert mixed.item_ids() == ["files:i0", "files:i1", "files:i2", "garden:i0", "garden:i1"]
    assert mixed.user_ids[-1] == "garden:u1"
    assert mixed.text_fields == ["title", "name"]
    assert (mixed.item_text(1), mixed.item_text(4)) == ("title: kettle", "name: spade")
    # each part's users buy only that part's items
    assert all(seq.max() <= 3 for seq in mixed.sequences[:4]) and all(seq.min() >= 4 for seq in mixed.sequences[4:])


def test_loads_registered_parts_by_name_or_with_options(tmp_path):
    kitchen = shop(tmp_path / "kitchen", ["kettle", "teapot", "mug"], "title", users=4)
    mixed = load_dataset("mixed", {"datasets": [{"name": "files", "options": kitchen}, "movielens-100k"]})
    movielens = load_dataset("movielens-100k")
    assert mixed.n_items == 3 + movielens.n_items and mixed.n_users == 4 + movielens.n_users
    assert mixed.timestamps is None  # the kitchen has none, so the mixture keeps none
    with pytest.raises(DataError, match="appears twice"):
        load_dataset("mixed", {"datasets": ["movielens-100k", "movielens-100k"]})


def test_needs_two_parts_and_names_a_bad_option():
    with pytest.raises(ConfigError, match="datasets"):
        load_dataset("mixed", {"datasets": ["movielens-100k"]})
    with pytest.raises(ConfigError, match=r"datasets\.0\.colour"):
        load_dataset("mixed", {"datasets": [{"name": "movielens-100k", "colour": 1}, "movielens-100k"]})
