"""The registered benchmark datasets load with the sizes, ids, text and order their SOURCE.md documents."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from data_testkit import external_sequences

from agenticrec.data import DATASETS, Dataset, load_dataset
from agenticrec.data.movielens import recbole_folder

BEAUTY_FOLDER = "amazon2014-beauty-5core"
SPORTS_FOLDER = "amazon2014-sports-5core"
MOVIELENS_FOLDER = "movielens-100k"


def read_s3rec_file(path: Path) -> dict[str, list[int]]:
    """An independent parse of a ``user item item ...`` sequence file."""
    sequences = {}
    for line in path.read_text().splitlines():
        if line.strip():
            user, *items = line.split()
            sequences[user] = [int(item) for item in items]
    return sequences


def as_dict(dataset: Dataset) -> dict[str, list[int]]:
    return {user: seq.tolist() for user, seq in zip(dataset.user_ids, dataset.sequences)}


# --------------------------------------------------------------------------------------------- Beauty


@pytest.fixture(scope="module")
def beauty(shared_data_dir: Path) -> Dataset:
    return load_dataset("amazon-beauty", data_dir=shared_data_dir)


def test_beauty_sizes_match_source_md(beauty: Dataset) -> None:
    assert (beauty.n_users, beauty.n_items, beauty.n_interactions) == (22_363, 12_101, 198_502)
    stats = beauty.stats()
    assert stats["users"] == 22_363 and stats["items"] == 12_101 and stats["interactions"] == 198_502
    assert stats["max_sequence_length"] == 204  # "The longest user sequence has 204 items."
    assert stats["density"] == pytest.approx(198_502 / (22_363 * 12_101))
    assert min(len(seq) for seq in beauty.sequences) >= 5  # 5-core


def test_beauty_sequences_are_the_file_verbatim(beauty: Dataset, shared_data_dir: Path) -> None:
    expected = read_s3rec_file(shared_data_dir / BEAUTY_FOLDER / "Beauty.txt")
    assert beauty.user_ids == list(expected)  # file order kept
    assert as_dict(beauty) == expected
    # SOURCE.md's first lines
    assert expected["1"] == [1, 2, 3, 4, 5]
    assert expected["2"] == [6, 7, 8, 9, 10, 4, 11]
    assert all(seq.dtype == np.int64 for seq in beauty.sequences)


def test_beauty_internal_index_is_the_published_item_id(beauty: Dataset, shared_data_dir: Path) -> None:
    datamaps = json.loads((shared_data_dir / BEAUTY_FOLDER / "datamaps.json").read_text())
    assert beauty.items["item_id"].tolist() == [str(i) for i in range(1, 12_102)]
    assert beauty.item_index("1") == 1 and beauty.item_index("12101") == 12_101
    assert beauty.items["asin"].tolist() == [datamaps["id2item"][str(i)] for i in range(1, 12_102)]
    assert beauty.items["asin"].iloc[0] == "B004756YJA"


def test_beauty_item_text_is_key_value_fields(beauty: Dataset) -> None:
    assert beauty.text_fields == ["title", "brand", "categories"]
    assert beauty.item_text(1) == (
        "title: OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce; brand: OPI; "
        "categories: Beauty > Makeup > Nails > Nail Polish"
    )
    assert beauty.item_text(2).startswith("title: OPI Red Shatter Crackle Nail Polish")
    texts = beauty.item_texts()
    assert len(texts) == 12_101 and texts[0] == beauty.item_text(1)
    assert all(text.startswith("title: ") for text in texts)  # every Beauty item has a title


def test_beauty_item_without_brand_omits_the_field(beauty: Dataset, shared_data_dir: Path) -> None:
    with (shared_data_dir / BEAUTY_FOLDER / "items.jsonl").open() as handle:
        no_brand = next(json.loads(line)["item_id"] for line in handle if json.loads(line)["brand"] is None)
    text = beauty.item_text(int(no_brand))
    assert "brand:" not in text
    assert text.startswith("title: ") and "; categories: " in text


# --------------------------------------------------------------------------------------------- Sports


@pytest.fixture(scope="module")
def sports(shared_data_dir: Path) -> Dataset:
    return load_dataset("amazon-sports", data_dir=shared_data_dir)


def test_sports_sizes_match_source_md(sports: Dataset) -> None:
    assert (sports.n_users, sports.n_items, sports.n_interactions) == (35_598, 18_357, 296_337)
    assert sports.stats()["max_sequence_length"] == 296
    assert min(len(seq) for seq in sports.sequences) >= 5


def test_sports_sequences_are_the_file_verbatim(sports: Dataset, shared_data_dir: Path) -> None:
    expected = read_s3rec_file(shared_data_dir / SPORTS_FOLDER / "Sports_and_Outdoors.txt")
    assert as_dict(sports) == expected
    assert expected["1"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert sports.items["asin"].iloc[0] == "1881509818"


def test_sports_text_has_no_titles_but_brand_categories_keywords(sports: Dataset) -> None:
    assert sports.text_fields == ["brand", "categories", "keywords"]
    assert sports.item_text(1) == (
        "brand: Ghost; categories: Sports & Outdoors > Hunting & Fishing > Hunting > Gun Maintenance > "
        "Gunsmithing Tools; keywords: ghost armorers tool 332 punch hunting fishing"
    )
    assert sports.item_text(2).startswith("brand: Tipton; categories: Sports & Outdoors > Hunting & Fishing")
    assert not any("title:" in text for text in sports.item_texts())


def test_s3rec_loader_accepts_an_explicit_folder(shared_data_dir: Path) -> None:
    """Option ``path`` replaces ``data_dir/folder``; ``data_dir`` is then irrelevant."""
    dataset = load_dataset(
        "amazon-beauty", {"path": str(shared_data_dir / BEAUTY_FOLDER)}, data_dir=Path("/nonexistent")
    )
    assert (dataset.n_users, dataset.n_items) == (22_363, 12_101)


def test_beauty_text_fields_option_selects_fields(shared_data_dir: Path) -> None:
    dataset = load_dataset("amazon-beauty", {"text_fields": ["title"]}, data_dir=shared_data_dir)
    assert dataset.item_text(1) == "title: OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce"


# --------------------------------------------------------------------------------------------- MovieLens


def read_u_data(path: Path) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """Chronological sequences from u.data by a stable sort on the timestamp (ties keep file order)."""
    rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
    stamps = {}
    with path.open(newline="") as handle:
        for user, item, _rating, stamp in csv.reader(handle, delimiter="\t"):
            rows[user].append((int(stamp), item))
            stamps[user, item] = int(stamp)
    sequences = {user: [item for _, item in sorted(events, key=lambda e: e[0])] for user, events in rows.items()}
    return sequences, stamps


@pytest.fixture(scope="module")
def movielens_recbole() -> Dataset:
    return load_dataset("movielens-100k")


@pytest.fixture(scope="module")
def movielens_grouplens(shared_data_dir: Path) -> Dataset:
    return load_dataset("movielens-100k", {"path": str(shared_data_dir / MOVIELENS_FOLDER)})


@pytest.fixture(scope="module")
def u_data(shared_data_dir: Path) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    return read_u_data(shared_data_dir / MOVIELENS_FOLDER / "u.data")


def test_movielens_from_recbole_sizes(movielens_recbole: Dataset) -> None:
    assert recbole_folder().is_dir()
    assert (movielens_recbole.n_users, movielens_recbole.n_items, movielens_recbole.n_interactions) == (
        943,
        1_682,
        100_000,
    )
    assert min(len(seq) for seq in movielens_recbole.sequences) >= 20  # "Each user has at least 20 ratings."
    assert movielens_recbole.text_fields == ["title", "year", "genres"]
    assert movielens_recbole.item_text(1) == "title: Toy Story; year: 1995; genres: Animation Children's Comedy"


def test_movielens_grouplens_copy_gives_the_same_dataset(
    movielens_recbole: Dataset, movielens_grouplens: Dataset
) -> None:
    assert (movielens_grouplens.n_users, movielens_grouplens.n_items, movielens_grouplens.n_interactions) == (
        943,
        1_682,
        100_000,
    )
    assert movielens_grouplens.user_ids == movielens_recbole.user_ids
    assert movielens_grouplens.items["item_id"].tolist() == movielens_recbole.items["item_id"].tolist()
    assert as_dict(movielens_grouplens) == as_dict(movielens_recbole)
    assert movielens_grouplens.item_text(1) == movielens_recbole.item_text(1)
    # titles with a "(year)" suffix are split into title and year
    assert movielens_grouplens.item_text(2) == "title: GoldenEye; year: 1995; genres: Action Adventure Thriller"


@pytest.mark.parametrize("which", ["recbole", "grouplens"])
def test_movielens_sequences_are_chronological(
    which: str, request: pytest.FixtureRequest, u_data: tuple[dict[str, list[str]], dict[tuple[str, str], int]]
) -> None:
    dataset: Dataset = request.getfixturevalue(f"movielens_{which}")
    expected, stamps = u_data
    actual = external_sequences(dataset)
    assert actual == expected  # every user, ties in u.data file order
    for user in ("1", "196", "405", "943"):
        times = [stamps[user, item] for item in actual[user]]
        assert times == sorted(times)
        assert len(actual[user]) == len(set(actual[user]))
    # u.data line 2 is user 186's item 302 (891717742), but 186 rated 288 and 300 earlier (both at 879022858)
    assert actual["186"][:2] == ["288", "300"]
    assert actual["186"].index("302") > 2
    # user 1 rated 61, 230, 162, 35 in the same second: they stay adjacent, in u.data order
    start = actual["1"].index("61")
    assert actual["1"][start : start + 4] == ["61", "230", "162", "35"]


def test_movielens_grouplens_text_is_decoded_without_mojibake(movielens_grouplens: Dataset) -> None:
    texts = movielens_grouplens.item_texts()
    assert not any("\u00ef\u00bf\u00bd" in text for text in texts)  # UTF-8 bytes of U+FFFD read as latin-1


def test_movielens_grouplens_latin1_release_is_decoded(tmp_path: Path, shared_data_dir: Path) -> None:
    """The genuine GroupLens u.item is latin-1 (e.g. byte 0xE9 for 'é')."""
    source = shared_data_dir / MOVIELENS_FOLDER
    for name in ("u.data", "u.genre"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    flags = "|".join(["0"] * 8 + ["1"] + ["0"] * 10)  # Drama
    lines = [line for line in (source / "u.item").read_bytes().split(b"\n") if line]
    lines[542] = f"543|Misérables, Les (1995)|01-Jan-1995||http://us.imdb.com/|{flags}".encode("latin-1")
    (tmp_path / "u.item").write_bytes(b"\n".join(lines) + b"\n")
    dataset = load_dataset("movielens-100k", {"path": str(tmp_path)})
    assert dataset.item_text(dataset.item_index("543")) == "title: Misérables, Les; year: 1995; genres: Drama"


def test_registry_lists_the_benchmarks() -> None:
    assert {"amazon-beauty", "amazon-sports", "amazon-raw", "movielens-100k", "files"} <= set(DATASETS)
    assert all(spec.description for spec in DATASETS.values())


# --------------------------------------------------------------------------------------------- Office 2014


def test_office_has_real_timestamps_and_forty_categories(shared_data_dir: Path) -> None:
    office = load_dataset("amazon-office")
    assert (office.n_users, office.n_items, office.n_interactions) == (4905, 2420, 53258)
    assert office.timestamps is not None and office.behaviours is None
    assert all((np.diff(t) >= 0).all() for t in office.timestamps)
    assert len(set(office.categories())) == 40
    toner = office.item_ids().index("1")  # "HP 78 Tri-Color Printer Cartridge ... Laser Printer Toner HP"
    assert office.categories()[toner] == "cartridge, ink, printer"
    assert office.brands() is not None and len(set(office.brands())) > 100
    rows = {}
    with (shared_data_dir / "amazon2014-office-5core" / "sequences_with_time.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows.setdefault(row["user_id"], []).append((int(row["timestamp"]), row["item_id"]))
    user = office.user_ids[0]
    assert sorted(rows[user], key=lambda r: r[0]) == [
        (int(t), office.item_ids()[i - 1]) for t, i in zip(office.timestamps[0], office.sequences[0])
    ]


def test_movielens_ratings_are_behaviour_values() -> None:
    movielens = load_dataset("movielens-100k")
    assert movielens.behaviours is not None
    assert {str(v) for seq in movielens.behaviours for v in seq} == {"1", "2", "3", "4", "5"}
    assert [len(b) for b in movielens.behaviours] == [len(s) for s in movielens.sequences]


# --------------------------------------------------------------------------------------------- Scientific 2018


def test_scientific_matches_the_unisrec_counts_and_keeps_asins(shared_data_dir: Path) -> None:
    scientific = load_dataset("amazon-scientific")
    assert (scientific.n_users, scientific.n_items, scientific.n_interactions) == (8442, 4385, 59427)
    first = (shared_data_dir / "amazon2018-scientific-unisrec" / "sequences_asin.txt").read_text().split("\n")[0]
    assert [scientific.item_ids()[i - 1] for i in scientific.sequences[0]] == first.split()[1:]
    assert scientific.item_text(1).startswith("title: eSUN Bronze filament")
    assert "categories: Industrial & Scientific > Additive Manufacturing Products" in scientific.item_text(1)
    assert all(title for title in scientific.items["title"])  # items without a joined title keep their UniSRec text
