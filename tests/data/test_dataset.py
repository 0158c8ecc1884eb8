"""The in-memory Dataset: item indexing, text rendering and statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agenticrec.data import Dataset
from agenticrec.errors import DataError


@pytest.fixture
def dataset() -> Dataset:
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "title": ["Alpha", "Beta", None, "  "],
            "brand": ["Acme", np.nan, "Cmaker", "Dmaker"],
            "price": ["9.99", "", None, "1"],
        }
    )
    return Dataset(
        name="tiny",
        items=items,
        user_ids=["u1", "u2"],
        sequences=[np.array([1, 2, 3], dtype=np.int64), np.array([4, 3, 2, 1], dtype=np.int64)],
        text_fields=["title", "brand", "price"],
    )


def test_item_text_renders_present_fields_in_order(dataset: Dataset) -> None:
    assert dataset.item_text(1) == "title: Alpha; brand: Acme; price: 9.99"
    assert dataset.item_text(2) == "title: Beta"  # NaN and "" are left out
    assert dataset.item_text(3) == "brand: Cmaker"  # None is left out
    assert dataset.item_text(4) == "brand: Dmaker; price: 1"  # whitespace-only is left out
    assert dataset.item_texts() == [dataset.item_text(i) for i in (1, 2, 3, 4)]


def test_item_text_cuts_each_field_to_its_first_words(dataset: Dataset) -> None:
    dataset.items.loc[0, "title"] = "Alpha  Nail Lacquer\tRed"
    assert dataset.item_text(1, words=2) == "title: Alpha Nail; brand: Acme; price: 9.99"
    assert dataset.item_text(1) == "title: Alpha  Nail Lacquer\tRed; brand: Acme; price: 9.99"


def test_item_text_only_uses_text_fields(dataset: Dataset) -> None:
    narrow = Dataset(dataset.name, dataset.items, dataset.user_ids, dataset.sequences, text_fields=["brand"])
    assert narrow.item_text(1) == "brand: Acme"
    assert Dataset(dataset.name, dataset.items, dataset.user_ids, dataset.sequences).item_text(1) == ""


def test_item_index_is_one_based(dataset: Dataset) -> None:
    assert dataset.index_of == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert dataset.item_index("c") == 3
    with pytest.raises(DataError, match=r"tiny: unknown item id 'zz'"):
        dataset.item_index("zz")


def test_stats(dataset: Dataset) -> None:
    assert dataset.stats() == {
        "users": 2,
        "items": 4,
        "interactions": 7,
        "density": pytest.approx(7 / 8),
        "mean_sequence_length": 3.5,
        "max_sequence_length": 4,
    }


def test_user_and_sequence_counts_must_agree(dataset: Dataset) -> None:
    with pytest.raises(DataError, match=r"tiny: 1 user ids but 2 sequences"):
        Dataset("tiny", dataset.items, ["u1"], dataset.sequences)


def test_a_user_sample_keeps_the_catalogue_and_aligned_events() -> None:
    sequences = [np.array([1, 2, 3 + u % 2], dtype=np.int64) for u in range(10)]
    full = Dataset(
        name="tiny",
        items=pd.DataFrame({"item_id": ["a", "b", "c", "d"]}),
        user_ids=[f"u{u}" for u in range(10)],
        sequences=sequences,
        timestamps=[np.array([u, u + 1, u + 2]) for u in range(10)],
    )
    sample = full.sample_users(4, seed=0)
    assert sample.n_users == 4 and sample.n_items == 4 and sample.items is full.items
    kept = [int(u[1:]) for u in sample.user_ids]
    assert kept == sorted(kept) and full.sample_users(4, seed=0).user_ids == sample.user_ids  # seeded, in order
    assert sample.timestamps is not None
    for position, user in enumerate(kept):
        assert (sample.sequences[position] == sequences[user]).all() and sample.timestamps[position][0] == user
    assert full.sample_users(10) is full and full.sample_users(4, seed=1).user_ids != sample.user_ids
