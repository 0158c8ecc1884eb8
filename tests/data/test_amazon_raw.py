"""McAuley's raw Amazon 2014 files: k-core filtering, chronological order and item text from metadata."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from data_testkit import external_sequences, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from agenticrec.data import load_dataset
from agenticrec.data.amazon_raw import TEXT_FIELDS, read_reviews
from agenticrec.data.build import k_core
from agenticrec.errors import DataError


def review(user: str, asin: str, time: int) -> str:
    """A review line as in ``reviews_<Category>_5.json.gz`` (strict JSON, one object per line)."""
    return json.dumps(
        {
            "reviewerID": user,
            "asin": asin,
            "reviewerName": f"Name of {user}",
            "helpful": [0, 0],
            "reviewText": "Great toy.",
            "overall": 5.0,
            "summary": "Nice",
            "unixReviewTime": time,
            "reviewTime": "01 1, 2014",
        }
    )


# File order matters: ties in unixReviewTime keep it.
REVIEWS = [
    review("U1", "A", 300),
    review("U1", "D", 200),  # tie with C below: D first (file order)
    review("U2", "A", 10),
    review("U1", "C", 200),
    review("U1", "B", 100),
    review("U2", "B", 20),
    review("U2", "C", 30),
    review("U2", "D", 40),
    review("U3", "C", 5),  # U3: three reviews in the same second
    review("U3", "B", 5),
    review("U3", "A", 5),
    review("U4", "E", 1),  # E has one review: removed, then U4 has one (F): removed, then F has one: removed
    review("U4", "F", 2),
    review("U5", "F", 1),
    review("U5", "A", 2),
    review("U5", "B", 3),
    review("U5", "C", 4),
    review("U6", "A", 1),  # a user with a single review
]

LONG_DESCRIPTION = "x" * 1500

# The 2014 metadata lines are Python literals (single quotes); strict JSON lines are accepted too.
META = [
    "{'asin': 'E', 'title': 'Eraser', 'categories': [['Office']]}",
    "{'asin': 'C', 'title': \"Bob's Blocks\", 'brand': 'Bob', 'price': 12.5, "
    "'categories': [['Toys & Games', 'Blocks'], ['Baby', 'Toys']], 'salesRank': {'Toys & Games': 5}, "
    "'imUrl': 'http://ecx.images-amazon.com/images/I/c.jpg', 'related': {'also_bought': ['A', 'B']}}",
    json.dumps(
        {"asin": "A", "title": "Alpha Train", "description": LONG_DESCRIPTION, "categories": [["Toys & Games"]]}
    ),
    "{'asin': 'B', 'title': 'Beta Doll', 'categories': [['Toys & Games', 'Dolls']], 'price': 3}",
    "{'asin': 'Z', 'title': 'Never reviewed', 'categories': [['Toys & Games']]}",
    # D has no metadata line
]


@pytest.fixture
def raw_files(tmp_path: Path) -> tuple[Path, Path]:
    return write_lines(tmp_path / "reviews_Toy_5.json.gz", REVIEWS), write_lines(tmp_path / "meta_Toy.json.gz", META)


def load_raw(files: tuple[Path, Path], **options):
    reviews, meta = files
    return load_dataset("amazon-raw", {"reviews": str(reviews), "meta": str(meta), **options})


def test_two_core_sequences_are_chronological_with_ties_in_file_order(raw_files: tuple[Path, Path]) -> None:
    dataset = load_raw(raw_files, core=2)
    assert external_sequences(dataset) == {
        "U1": ["B", "D", "C", "A"],
        "U2": ["A", "B", "C", "D"],
        "U3": ["C", "B", "A"],
        "U5": ["A", "B", "C"],
    }
    assert dataset.name == "amazon-raw"
    assert (dataset.n_users, dataset.n_items, dataset.n_interactions) == (4, 4, 14)


def test_k_core_removes_users_and_items_iteratively(raw_files: tuple[Path, Path]) -> None:
    """F has two reviews, so a single pass keeps it; it only goes once E and then U4 are gone."""
    dataset = load_raw(raw_files, core=2)
    assert sorted(dataset.user_ids) == ["U1", "U2", "U3", "U5"]  # U4 and U6 (fewer than 2 reviews) removed
    assert sorted(dataset.items["item_id"]) == ["A", "B", "C", "D"]  # E, F removed; Z was never reviewed
    counts = Counter(item for seq in external_sequences(dataset).values() for item in seq)
    assert min(counts.values()) >= 2

    reviews = read_reviews(raw_files[0])
    single_pass = reviews[
        reviews.groupby("user_id")["item_id"].transform("size").ge(2)
        & reviews.groupby("item_id")["user_id"].transform("size").ge(2)
    ]
    assert "F" in set(single_pass["item_id"])  # the iteration matters on this fixture
    assert set(k_core(reviews, 2)["item_id"]) == {"A", "B", "C", "D"}


def test_item_text_comes_from_the_metadata(raw_files: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agenticrec.data.amazon_raw"):
        dataset = load_raw(raw_files, core=2)
    assert dataset.text_fields == TEXT_FIELDS == ["title", "brand", "categories", "price", "description"]
    text = {item_id: dataset.item_text(dataset.item_index(item_id)) for item_id in "ABCD"}
    assert text["C"] == "title: Bob's Blocks; brand: Bob; categories: Toys & Games > Blocks | Baby > Toys; price: 12.5"
    assert text["A"] == "title: Alpha Train; categories: Toys & Games; description: " + "x" * 1000  # truncated
    assert text["B"] == "title: Beta Doll; categories: Toys & Games > Dolls; price: 3"
    assert text["D"] == ""  # reviewed but no metadata: empty text, and a warning
    assert "1 reviewed items have no metadata" in caplog.text
    # catalogue order: metadata file order, items without metadata last
    assert dataset.items["item_id"].tolist() == ["C", "A", "B", "D"]


def test_plain_json_files_without_gzip(tmp_path: Path) -> None:
    reviews = write_lines(tmp_path / "reviews.json", REVIEWS)
    meta = write_lines(tmp_path / "meta.json", META)
    dataset = load_dataset("amazon-raw", {"reviews": str(reviews), "meta": str(meta), "core": 2})
    assert external_sequences(dataset)["U1"] == ["B", "D", "C", "A"]


def test_meta_lines_with_surrounding_whitespace(tmp_path: Path) -> None:
    reviews = write_lines(tmp_path / "reviews_Toy_5.json.gz", REVIEWS)
    meta = write_lines(tmp_path / "meta_Toy.json.gz", [f"  {line} \r" for line in META])
    dataset = load_dataset("amazon-raw", {"reviews": str(reviews), "meta": str(meta), "core": 2})
    assert dataset.item_text(dataset.item_index("B")) == "title: Beta Doll; categories: Toys & Games > Dolls; price: 3"


def test_core_one_keeps_everything_but_short_users_need_dropping(raw_files: tuple[Path, Path]) -> None:
    with pytest.raises(DataError, match=r"reviews_Toy_5\.json\.gz: 2 users have fewer than 3 interactions"):
        load_raw(raw_files, core=1)
    dataset = load_raw(raw_files, core=1, drop_short_users=True)
    sequences = external_sequences(dataset)
    assert sorted(sequences) == ["U1", "U2", "U3", "U5"]
    assert sequences["U5"] == ["F", "A", "B", "C"]  # F survives a 1-core
    assert sorted(dataset.items["item_id"]) == ["A", "B", "C", "D", "F"]  # E only had U4, who was dropped


def test_default_five_core_of_a_tiny_file_leaves_nothing(raw_files: tuple[Path, Path]) -> None:
    with pytest.raises(DataError, match=r"reviews_Toy_5\.json\.gz: no interactions left"):
        load_raw(raw_files)


def test_core_must_be_positive(raw_files: tuple[Path, Path]) -> None:
    from agenticrec.errors import ConfigError

    with pytest.raises(ConfigError, match=r"data.options for 'amazon-raw': core"):
        load_raw(raw_files, core=0)


def reference_k_core(edges: list[tuple[str, str]], k: int) -> set[int]:
    """Positions of the edges in the k-core, by repeatedly deleting one under-k user or item."""
    alive = set(range(len(edges)))
    while True:
        users = Counter(edges[i][0] for i in alive)
        items = Counter(edges[i][1] for i in alive)
        doomed = {i for i in alive if users[edges[i][0]] < k or items[edges[i][1]] < k}
        if not doomed:
            return alive
        alive -= {min(doomed)}


@settings(max_examples=150, deadline=None)
@given(
    edges=st.lists(st.tuples(st.sampled_from("uvwxyz"), st.sampled_from("abcdefg")), max_size=40),
    k=st.integers(min_value=1, max_value=4),
)
def test_k_core_property(edges: list[tuple[str, str]], k: int) -> None:
    frame = pd.DataFrame(edges, columns=["user_id", "item_id"])
    kept = k_core(frame, k)
    assert set(kept.index) == reference_k_core(edges, k)  # the unique maximal k-core, rows untouched
    if len(kept):
        assert kept.groupby("user_id").size().min() >= k
        assert kept.groupby("item_id").size().min() >= k
