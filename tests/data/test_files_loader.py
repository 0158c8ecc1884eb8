"""The generic ``files`` loader: JSONL/CSV/TSV/Parquet inputs, a column mapping, timestamps, short users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from data_testkit import external_sequences

from agenticrec.data import Dataset, load_dataset
from agenticrec.errors import DataError

MAPPING = {"item_id": "sku", "user_id": "customer", "timestamp": "ts"}

ITEMS = pd.DataFrame(
    {
        "sku": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "title": ["Kettle", "Teapot", "Mug", "Spoon", "Tray", "Never bought"],
        "brand": ["Brewco", "Brewco", "", "Forks Ltd", "Trays", "Nobody"],
        "category": ["Kitchen", "Kitchen", "Kitchen", "Cutlery", "Kitchen", "Garden"],
    }
)

# (customer, sku, ISO date) in file order; c2 bought S3 and S4 on the same day (S3 first in the file).
EVENTS = [
    ("c1", "S1", "2024-01-03"),
    ("c2", "S2", "2024-01-01"),
    ("c1", "S2", "2024-01-01"),
    ("c1", "S3", "2024-01-02"),
    ("c2", "S3", "2024-01-02"),
    ("c2", "S4", "2024-01-02"),
    ("c3", "S5", "2024-01-05"),
    ("c3", "S1", "2024-01-04"),
    ("c3", "S2", "2024-01-06"),
]
CHRONOLOGICAL = {"c1": ["S2", "S3", "S1"], "c2": ["S2", "S3", "S4"], "c3": ["S1", "S5", "S2"]}
FILE_ORDER = {"c1": ["S1", "S2", "S3"], "c2": ["S2", "S3", "S4"], "c3": ["S5", "S1", "S2"]}


def write_table(path: Path, frame: pd.DataFrame) -> Path:
    name = path.name
    if name.endswith((".jsonl", ".jsonl.gz")):
        frame.to_json(path, orient="records", lines=True)
    elif name.endswith((".csv", ".csv.gz")):
        frame.to_csv(path, index=False)
    elif name.endswith(".tsv"):
        frame.to_csv(path, index=False, sep="\t")
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        raise AssertionError(name)
    return path


def events_frame(stamps: list[object] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(EVENTS, columns=["customer", "sku", "ts"])
    if stamps is not None:
        frame["ts"] = stamps
    return frame


def load_files(items: Path, interactions: Path, **options) -> Dataset:
    options.setdefault("columns", MAPPING)
    options.setdefault("text_fields", ["title", "brand", "category"])
    return load_dataset("files", {"items": str(items), "interactions": str(interactions), **options})


@pytest.mark.parametrize(
    "suffix", [".jsonl", ".csv", ".parquet", ".tsv", ".jsonl.gz", ".csv.gz"], ids=lambda s: s.strip(".")
)
def test_column_mapping_and_iso_dates(tmp_path: Path, suffix: str) -> None:
    items = write_table(tmp_path / f"catalogue{suffix}", ITEMS)
    events = write_table(tmp_path / f"events{suffix}", events_frame())
    dataset = load_files(items, events)
    assert external_sequences(dataset) == CHRONOLOGICAL
    assert (dataset.n_users, dataset.n_items, dataset.n_interactions) == (3, 5, 9)
    # the catalogue keeps file order and drops S6, which nobody bought
    assert dataset.items["item_id"].tolist() == ["S1", "S2", "S3", "S4", "S5"]
    assert dataset.text_fields == ["title", "brand", "category"]
    assert dataset.item_text(dataset.item_index("S1")) == "title: Kettle; brand: Brewco; category: Kitchen"
    assert dataset.item_text(dataset.item_index("S3")) == "title: Mug; category: Kitchen"  # empty brand left out


def test_mixed_formats_across_the_two_files(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.parquet", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame())
    assert external_sequences(load_files(items, events)) == CHRONOLOGICAL


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"], ids=lambda s: s.strip("."))
def test_numeric_timestamps(tmp_path: Path, suffix: str) -> None:
    """Unix seconds; the ordering must be numeric, not lexicographic (9.5e8 < 1.7e9)."""
    days = {"2024-01-01": 950_000_000, "2024-01-02": 1_700_000_000, "2024-01-03": 1_700_000_001}
    days |= {"2024-01-04": 1_700_086_400, "2024-01-05": 1_700_172_800, "2024-01-06": 1_700_259_200}
    stamps = [days[day] for _, _, day in EVENTS]
    items = write_table(tmp_path / f"catalogue{suffix}", ITEMS)
    events = write_table(tmp_path / f"events{suffix}", events_frame(stamps))
    assert external_sequences(load_files(items, events)) == CHRONOLOGICAL


def test_iso_timestamps_with_times_zones_and_mixed_precision(tmp_path: Path) -> None:
    """``datetime.isoformat()`` omits zero microseconds, so one column can mix precisions; offsets are honoured."""
    base = datetime(2024, 5, 1, 12, 0, 0)
    rows = [
        ("u", "S1", (base + timedelta(seconds=1, microseconds=500)).isoformat()),  # 12:00:01.000500
        ("u", "S2", base.isoformat()),  # 12:00:00
        ("u", "S3", (base + timedelta(seconds=1)).isoformat()),  # 12:00:01
        ("v", "S1", "2024-05-01T10:00:00+02:00"),  # 08:00 UTC
        ("v", "S2", "2024-05-01T09:00:00Z"),  # 09:00 UTC
        ("v", "S3", "2024-05-01T07:30:00+00:00"),  # 07:30 UTC
        ("w", "S4", "2024-05-02"),
        ("w", "S5", "2024-05-01 23:59"),
        ("w", "S1", "2024-05-02T00:00:01"),
    ]
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", pd.DataFrame(rows, columns=["customer", "sku", "ts"]))
    assert external_sequences(load_files(items, events)) == {
        "u": ["S2", "S3", "S1"],
        "v": ["S3", "S1", "S2"],
        "w": ["S5", "S4", "S1"],
    }


def test_non_iso_dates(tmp_path: Path) -> None:
    """Other unambiguous date spellings are read value by value, also mixed with ISO ones."""
    spelled = {"2024-01-01": "Jan 1, 2024", "2024-01-02": "2 January 2024 00:00", "2024-01-03": "2024-01-03"}
    spelled |= {"2024-01-04": "Thu, 04 Jan 2024 00:00:00 GMT", "2024-01-05": "Jan 5 2024", "2024-01-06": "2024/01/06"}
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame([spelled[day] for _, _, day in EVENTS]))
    assert external_sequences(load_files(items, events)) == CHRONOLOGICAL


@pytest.mark.parametrize("tz", [None, UTC], ids=["naive", "utc"])
def test_parquet_native_timestamps(tmp_path: Path, tz: timezone | None) -> None:
    stamps = [pd.Timestamp(day, tz=tz) for _, _, day in EVENTS]
    items = write_table(tmp_path / "catalogue.parquet", ITEMS)
    events = write_table(tmp_path / "events.parquet", events_frame(stamps))
    assert external_sequences(load_files(items, events)) == CHRONOLOGICAL


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"], ids=lambda s: s.strip("."))
def test_timestamp_null_means_file_order(tmp_path: Path, suffix: str) -> None:
    items = write_table(tmp_path / f"catalogue{suffix}", ITEMS)
    events = write_table(tmp_path / f"events{suffix}", events_frame().drop(columns="ts"))
    dataset = load_files(items, events, columns={"item_id": "sku", "user_id": "customer", "timestamp": None})
    assert external_sequences(dataset) == FILE_ORDER


def test_timestamp_null_ignores_a_present_time_column(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame())
    dataset = load_files(items, events, columns={"item_id": "sku", "user_id": "customer", "timestamp": None})
    assert external_sequences(dataset) == FILE_ORDER


def test_default_column_names_and_text_fields(tmp_path: Path) -> None:
    items = write_table(tmp_path / "items.jsonl", ITEMS.rename(columns={"sku": "item_id"}))
    events = write_table(
        tmp_path / "interactions.jsonl",
        events_frame().rename(columns={"customer": "user_id", "sku": "item_id", "ts": "timestamp"}),
    )
    dataset = load_dataset("files", {"items": str(items), "interactions": str(events)})
    assert external_sequences(dataset) == CHRONOLOGICAL
    assert dataset.text_fields == ["title"]
    assert dataset.item_text(1) == "title: Kettle"


def test_integer_ids_match_across_files(tmp_path: Path) -> None:
    """Parquet stores int64 ids, CSV strings: both become the same external id."""
    items = write_table(tmp_path / "catalogue.parquet", ITEMS.assign(sku=[101, 102, 103, 104, 105, 106]))
    events = events_frame().assign(
        sku=lambda f: f["sku"].str[1:].astype(int) + 100, customer=[7, 42, 7, 7, 42, 42, 9, 9, 9]
    )
    dataset = load_files(items, write_table(tmp_path / "events.csv", events))
    assert external_sequences(dataset) == {
        "7": ["102", "103", "101"],
        "42": ["102", "103", "104"],
        "9": ["101", "105", "102"],
    }


def short_user_events() -> pd.DataFrame:
    extra = pd.DataFrame([("c4", "S6", "2024-02-01"), ("c4", "S1", "2024-02-02")], columns=["customer", "sku", "ts"])
    return pd.concat([events_frame(), extra], ignore_index=True)


def test_short_users_are_an_error_by_default(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", short_user_events())
    with pytest.raises(DataError, match=r"events\.csv: 1 users have fewer than 3 interactions, e.g. user 'c4'"):
        load_files(items, events)


def test_drop_short_users(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", short_user_events())
    dataset = load_files(items, events, drop_short_users=True)
    assert external_sequences(dataset) == CHRONOLOGICAL  # c4 gone
    assert "S6" not in dataset.items["item_id"].tolist()  # only c4 bought it


def test_dropping_every_user_is_an_error(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame().iloc[:2])
    with pytest.raises(DataError, match=r"events\.csv: no interactions left"):
        load_files(items, events, drop_short_users=True)


def test_behaviours_timestamps_and_categories_follow_the_sequences(tmp_path: Path) -> None:
    frame = events_frame()
    frame["kind"] = [f"k{i}" for i in range(len(frame))]  # one distinct behaviour value per event, in file order
    items = write_table(tmp_path / "catalogue.jsonl", ITEMS)
    events = write_table(tmp_path / "events.csv", frame)
    dataset = load_files(items, events, columns={**MAPPING, "behaviour": "kind"}, category_field="category")
    assert dataset.behaviours is not None and dataset.timestamps is not None
    by_event = {(str(r.customer), str(r.sku)): r.kind for r in frame.itertuples()}
    for user, items_, kinds, times in zip(dataset.user_ids, dataset.sequences, dataset.behaviours, dataset.timestamps):
        ids = [dataset.item_ids()[i - 1] for i in items_]
        assert list(kinds) == [by_event[(user, item)] for item in ids]
        assert list(times) == sorted(times)
    assert list(dataset.categories()) == ["Kitchen", "Kitchen", "Kitchen", "Cutlery", "Kitchen"]


def test_brands_follow_the_items_and_a_missing_brand_is_marked(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.csv", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame())
    dataset = load_files(items, events, text_fields=["title"], brand_field="brand")
    by_sku = dict(zip(ITEMS["sku"], ITEMS["brand"]))
    assert list(dataset.brands()) == [by_sku[i] or "(none)" for i in dataset.item_ids()]
    assert "(none)" in dataset.brands()  # S3's blank brand
    assert load_files(items, events).brands() is None


def test_an_unknown_category_field_is_named(tmp_path: Path) -> None:
    items = write_table(tmp_path / "catalogue.jsonl", ITEMS)
    events = write_table(tmp_path / "events.csv", events_frame())
    with pytest.raises(DataError, match="colour"):
        load_files(items, events, category_field="colour")
