"""Bad inputs raise DataError (bad options: ConfigError) naming the file, the record or line, and the problem."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from data_testkit import write_jsonl, write_lines

from agenticrec.data import load_dataset
from agenticrec.errors import AgenticRecError, ConfigError, DataError

MAPPING = {"item_id": "sku", "user_id": "customer", "timestamp": "ts"}
ITEM_ROWS = [{"sku": f"S{k}", "title": f"Item {k}"} for k in range(1, 5)]
EVENT_ROWS = [
    {"customer": "c1", "sku": "S1", "ts": 1},
    {"customer": "c1", "sku": "S2", "ts": 2},
    {"customer": "c1", "sku": "S3", "ts": 3},
    {"customer": "c2", "sku": "S2", "ts": 1},
    {"customer": "c2", "sku": "S3", "ts": 2},
    {"customer": "c2", "sku": "S4", "ts": 3},
]


def load_files(items: Path, interactions: Path, **options):
    options.setdefault("columns", MAPPING)
    return load_dataset("files", {"items": str(items), "interactions": str(interactions), **options})


def good_items(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "catalogue.jsonl", ITEM_ROWS)


def good_events(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "events.jsonl", EVENT_ROWS)


def test_error_hierarchy() -> None:
    assert issubclass(DataError, AgenticRecError) and issubclass(ConfigError, AgenticRecError)
    assert not issubclass(DataError, ValueError)  # never swallowed by a loader's `except ValueError`


# ------------------------------------------------------------------------------------------ missing files


def test_missing_items_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match=f"^table not found: {re.escape(str(missing))}$"):
        load_files(missing, good_events(tmp_path))


def test_missing_interactions_file(tmp_path: Path) -> None:
    missing = tmp_path / "events.csv"
    with pytest.raises(DataError, match=f"not found: {re.escape(str(missing))}"):
        load_files(good_items(tmp_path), missing)


def test_missing_s3rec_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"items file not found: {re.escape(str(tmp_path / 'items.jsonl'))}"):
        load_dataset("amazon-beauty", {"path": str(tmp_path)})
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": k} for k in (1, 2, 3)])
    with pytest.raises(DataError, match=f"sequence file not found: {re.escape(str(tmp_path / 'Beauty.txt'))}"):
        load_dataset("amazon-beauty", {"path": str(tmp_path)})


def test_missing_raw_amazon_file(tmp_path: Path) -> None:
    reviews = tmp_path / "reviews_Toy_5.json.gz"
    with pytest.raises(DataError, match=f"not found: {re.escape(str(reviews))}"):
        load_dataset("amazon-raw", {"reviews": str(reviews), "meta": str(tmp_path / "meta_Toy.json.gz")})


def test_missing_movielens_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"MovieLens file not found: {re.escape(str(tmp_path / 'u.data'))}"):
        load_dataset("movielens-100k", {"path": str(tmp_path)})


def test_no_data_dir_for_a_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    from agenticrec.data import registry

    monkeypatch.setattr(registry, "default_data_dir", lambda: None)
    with pytest.raises(
        DataError, match=r"amazon-beauty: no data directory; set data.data_dir or \$AGENTICREC_DATA_DIR"
    ):
        load_dataset("amazon-beauty")


# ------------------------------------------------------------------------------------------ missing columns


def test_missing_item_id_column(tmp_path: Path) -> None:
    items = write_jsonl(tmp_path / "catalogue.jsonl", [{"id": "S1", "title": "x"}])
    with pytest.raises(DataError, match=rf"{re.escape(str(items))}: missing column\(s\) sku \(found: id, title\)"):
        load_files(items, good_events(tmp_path))


def test_missing_text_field_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"catalogue\.jsonl: missing column\(s\) brand"):
        load_files(good_items(tmp_path), good_events(tmp_path), text_fields=["title", "brand"])


def test_missing_timestamp_column(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    pd.DataFrame(EVENT_ROWS).drop(columns="ts").to_csv(events, index=False)
    with pytest.raises(DataError, match=r"events\.csv: missing column\(s\) ts \(found: customer, sku\)"):
        load_files(good_items(tmp_path), events)


def test_empty_table_has_no_columns(tmp_path: Path) -> None:
    items = write_lines(tmp_path / "catalogue.jsonl", ["", "   "])
    with pytest.raises(DataError, match=r"catalogue\.jsonl: missing column\(s\) sku, title \(found: none\)"):
        load_files(items, good_events(tmp_path))


# ------------------------------------------------------------------------------------------ malformed records


def test_malformed_json_line_names_the_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(ITEM_ROWS[0]),
        "",
        json.dumps(ITEM_ROWS[1]),
        '{"sku": "S3", "title": ',
        json.dumps(ITEM_ROWS[3]),
    ]
    items = write_lines(tmp_path / "catalogue.jsonl", lines)
    with pytest.raises(DataError, match=rf"^{re.escape(str(items))}, line 4: malformed record") as info:
        load_files(items, good_events(tmp_path))
    assert "line 2" not in str(info.value)  # the parser's own position is within the line, not past its newline


def test_malformed_gzipped_json_line(tmp_path: Path) -> None:
    lines = [json.dumps(row) for row in EVENT_ROWS]
    lines[4] = "not json"
    events = write_lines(tmp_path / "events.jsonl.gz", lines)
    with pytest.raises(DataError, match=r"events\.jsonl\.gz, line 5: malformed record"):
        load_files(good_items(tmp_path), events)


def test_json_line_that_is_not_an_object(tmp_path: Path) -> None:
    items = write_lines(tmp_path / "catalogue.jsonl", [json.dumps(ITEM_ROWS[0]), '["S2", "Item 2"]'])
    with pytest.raises(DataError, match=r"catalogue\.jsonl, line 2: expected an object, got list"):
        load_files(items, good_events(tmp_path))


def test_unreadable_csv(tmp_path: Path) -> None:
    items = write_lines(tmp_path / "catalogue.csv", ["sku,title", "S1,x", 'S2,"unterminated', "S3,z"])
    with pytest.raises(DataError, match=r"catalogue\.csv: cannot read"):
        load_files(items, good_events(tmp_path))


def test_corrupt_parquet(tmp_path: Path) -> None:
    items = tmp_path / "catalogue.parquet"
    items.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match=r"catalogue\.parquet: cannot read"):
        load_files(items, good_events(tmp_path))


def test_unsupported_file_type(tmp_path: Path) -> None:
    items = write_lines(tmp_path / "catalogue.xlsx", ["whatever"])
    with pytest.raises(DataError, match=r"catalogue\.xlsx: unsupported file type '\.xlsx'"):
        load_files(items, good_events(tmp_path))


def test_unreadable_timestamp_names_the_record(tmp_path: Path) -> None:
    rows = [dict(row) for row in EVENT_ROWS]
    rows[4]["ts"] = "yesterday"  # the others are numbers: the message must name this record, not record 1
    events = write_jsonl(tmp_path / "events.jsonl", rows)
    with pytest.raises(DataError, match=r"events\.jsonl, record 5: cannot read ts 'yesterday' as a time"):
        load_files(good_items(tmp_path), events)


def test_unreadable_date_among_dates(tmp_path: Path) -> None:
    rows = [dict(row, ts=f"2024-01-0{row['ts']}") for row in EVENT_ROWS]
    rows[2]["ts"] = "2024-13-45"
    events = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(events, index=False)
    with pytest.raises(DataError, match=r"events\.csv, record 3: cannot read ts '2024-13-45' as a time"):
        load_files(good_items(tmp_path), events)


def test_missing_timestamp_in_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(EVENT_ROWS).assign(ts=pd.to_datetime(["2024-01-01"] * 6))
    frame.loc[3, "ts"] = pd.NaT
    events = tmp_path / "events.parquet"
    frame.to_parquet(events, index=False)
    with pytest.raises(DataError, match=r"events\.parquet, record 4: cannot read ts NaT as a time"):
        load_files(good_items(tmp_path), events)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_empty_user_or_item_id(tmp_path: Path, suffix: str) -> None:
    rows = [dict(row) for row in EVENT_ROWS]
    rows[3]["customer"] = None
    events = tmp_path / f"events{suffix}"
    if suffix == ".jsonl":
        write_jsonl(events, rows)
    else:
        pd.DataFrame(rows).to_csv(events, index=False)  # None is written as an empty field
    with pytest.raises(DataError, match=rf"events{re.escape(suffix)}, record 4: empty customer or sku"):
        load_files(good_items(tmp_path), events)


# ------------------------------------------------------------------------------------------ ids


def test_unknown_item_id_names_record_and_id(tmp_path: Path) -> None:
    rows = [dict(row) for row in EVENT_ROWS]
    rows[3]["sku"] = "S99"
    rows[5]["sku"] = "S98"
    events = write_jsonl(tmp_path / "events.jsonl", rows)
    items = good_items(tmp_path)
    with pytest.raises(
        DataError,
        match=rf"^{re.escape(str(events))}, record 4: unknown item id 'S99' \(not in {re.escape(str(items))}; "
        r"2 such interactions\)$",
    ):
        load_files(items, events)


def test_duplicate_item_ids(tmp_path: Path) -> None:
    items = tmp_path / "catalogue.csv"
    pd.DataFrame([*ITEM_ROWS, {"sku": "S2", "title": "again"}, {"sku": "S4", "title": "again"}]).to_csv(
        items, index=False
    )
    with pytest.raises(DataError, match=r"catalogue\.csv, record 5: duplicate item_id 'S2' \(2 duplicates in all\)"):
        load_files(items, good_events(tmp_path))


def test_short_users_error_by_default_and_dropped_on_request(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "events.jsonl", [*EVENT_ROWS, {"customer": "c3", "sku": "S1", "ts": 9}])
    with pytest.raises(DataError) as info:
        load_files(good_items(tmp_path), events)
    message = str(info.value)
    assert message.startswith(f"{events}: 1 users have fewer than 3 interactions, e.g. user 'c3'")
    assert "drop_short_users=true" in message
    dataset = load_files(good_items(tmp_path), events, drop_short_users=True)
    assert dataset.user_ids == ["c1", "c2"]


# ------------------------------------------------------------------------------------------ S3Rec format


def s3rec_folder(tmp_path: Path, sequence_lines: list[str], items: list[dict] | None = None) -> Path:
    folder = tmp_path / "beauty"
    folder.mkdir()
    write_jsonl(folder / "items.jsonl", items or [{"item_id": k, "title": f"t{k}"} for k in range(1, 6)])
    write_lines(folder / "Beauty.txt", sequence_lines)
    return folder


def test_s3rec_duplicate_user_line(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3", "2 2 3 4", "1 3 4 5"])
    with pytest.raises(DataError, match=rf"^{re.escape(str(folder / 'Beauty.txt'))}, line 3: duplicate user id '1'$"):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_unknown_item(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3", "2 2 3 99"])
    with pytest.raises(DataError, match=r"Beauty\.txt, line 2: unknown item id '99'"):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_short_user_names_the_line(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3", "", "2 4 5"])
    with pytest.raises(
        DataError, match=r"Beauty\.txt, line 3: user '2' has 2 interactions; leave-one-out needs at least 3"
    ):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_duplicate_item_id(tmp_path: Path) -> None:
    items = [{"item_id": k} for k in (1, 2, 3, 2)]
    folder = s3rec_folder(tmp_path, ["1 1 2 3"], items)
    with pytest.raises(DataError, match=r"items\.jsonl, record 4: duplicate item_id '2'"):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_item_without_id(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3"], [{"item_id": 1}, {"title": "no id"}])
    with pytest.raises(DataError, match=r"items\.jsonl, line 2: record has no 'item_id'"):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_empty_items_file(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3"])
    (folder / "items.jsonl").write_text("")
    with pytest.raises(DataError, match=r"Beauty\.txt, line 1: unknown item id '1'"):
        load_dataset("amazon-beauty", {"path": str(folder)})


def test_s3rec_unknown_text_field(tmp_path: Path) -> None:
    folder = s3rec_folder(tmp_path, ["1 1 2 3"])
    with pytest.raises(ConfigError, match=r"amazon-beauty: unknown text field\(s\) colour"):
        load_dataset("amazon-beauty", {"path": str(folder), "text_fields": ["title", "colour"]})


# ------------------------------------------------------------------------------------------ raw Amazon


def raw_files(tmp_path: Path, reviews: list[str], meta: list[str]) -> dict[str, object]:
    return {
        "reviews": str(write_lines(tmp_path / "reviews_Toy_5.json.gz", reviews)),
        "meta": str(write_lines(tmp_path / "meta_Toy.json.gz", meta)),
        "core": 1,
    }


def reviews_of(*pairs: tuple[str, str]) -> list[str]:
    return [json.dumps({"reviewerID": u, "asin": a, "unixReviewTime": t}) for t, (u, a) in enumerate(pairs)]


GOOD_REVIEWS = reviews_of(("U1", "A"), ("U1", "B"), ("U1", "C"))
GOOD_META = ["{'asin': 'A', 'title': 'a'}", "{'asin': 'B', 'title': 'b'}", "{'asin': 'C', 'title': 'c'}"]


def test_raw_review_missing_a_field(tmp_path: Path) -> None:
    reviews = [*GOOD_REVIEWS[:2], json.dumps({"reviewerID": "U1", "asin": "C"})]
    with pytest.raises(DataError, match=r"reviews_Toy_5\.json\.gz, line 3: review lacks unixReviewTime"):
        load_dataset("amazon-raw", raw_files(tmp_path, reviews, GOOD_META))


@pytest.mark.parametrize("bad", ["yesterday", None, [1]])
def test_raw_review_with_an_unreadable_time(tmp_path: Path, bad: object) -> None:
    reviews = [*GOOD_REVIEWS[:2], json.dumps({"reviewerID": "U1", "asin": "C", "unixReviewTime": bad})]
    with pytest.raises(DataError, match=r"reviews_Toy_5\.json\.gz, line 3: unixReviewTime .* is not an integer"):
        load_dataset("amazon-raw", raw_files(tmp_path, reviews, GOOD_META))


@pytest.mark.parametrize(
    "bad",
    ["{'asin': 'C', 'title': ", "{'asin': 'C', 'related': {['x']: 1}}", "title=C"],
    ids=["cut", "unhashable", "text"],
)
def test_raw_malformed_meta_line(tmp_path: Path, bad: str) -> None:
    meta = [*GOOD_META[:2], bad]
    with pytest.raises(DataError, match=r"meta_Toy\.json\.gz, line 3: malformed record"):
        load_dataset("amazon-raw", raw_files(tmp_path, GOOD_REVIEWS, meta))


def test_raw_meta_without_asin(tmp_path: Path) -> None:
    meta = [GOOD_META[0], "{'title': 'b'}", GOOD_META[2]]
    with pytest.raises(DataError, match=r"meta_Toy\.json\.gz, line 2: metadata record has no 'asin'"):
        load_dataset("amazon-raw", raw_files(tmp_path, GOOD_REVIEWS, meta))


def test_raw_duplicate_meta(tmp_path: Path) -> None:
    meta = [*GOOD_META, "{'asin': 'B', 'title': 'b again'}"]
    with pytest.raises(DataError, match=r"meta_Toy\.json\.gz, record 4: duplicate item_id 'B'"):
        load_dataset("amazon-raw", raw_files(tmp_path, GOOD_REVIEWS, meta))


# ------------------------------------------------------------------------------------------ MovieLens files


def test_movielens_bad_timestamp(tmp_path: Path) -> None:
    write_lines(tmp_path / "u.data", ["1\t1\t5\t100", "1\t2\t4\tsoon", "1\t3\t3\t300"])
    write_lines(tmp_path / "u.genre", ["Drama|0", "Comedy|1"])
    write_lines(tmp_path / "u.item", [f"{k}|Film {k} (1990)|01-Jan-1990||http://x|1|0" for k in (1, 2, 3)])
    with pytest.raises(DataError, match=r"u\.data, record 2: timestamp 'soon' is not a number"):
        load_dataset("movielens-100k", {"path": str(tmp_path)})


def test_movielens_wrong_column_count(tmp_path: Path) -> None:
    write_lines(tmp_path / "u.data", ["1\t1\t5", "1\t2\t4"])
    with pytest.raises(DataError, match=r"u\.data: expected 4 columns, found 3"):
        load_dataset("movielens-100k", {"path": str(tmp_path)})


# ------------------------------------------------------------------------------------------ registry / options


def test_unknown_dataset_name() -> None:
    with pytest.raises(
        DataError, match=r"unknown dataset 'amazon-books'; registered: amazon-beauty, amazon-office, amazon-raw, "
    ):
        load_dataset("amazon-books")


@pytest.mark.parametrize(
    ("name", "options", "problem"),
    [
        ("files", {"items": "a.csv", "interactions": "b.csv", "colums": {}}, r"colums: Extra inputs are not permitted"),
        ("files", {"items": "a.csv", "interactions": "b.csv", "columns": {"sku": "x"}}, r"columns\.sku: Extra inputs"),
        ("files", {"interactions": "b.csv"}, r"items: Field required"),
        ("files", {"items": "a.csv", "interactions": "b.csv", "drop_short_users": "maybe"}, r"drop_short_users: "),
        ("amazon-beauty", {"folder_name": "x"}, r"folder_name: Extra inputs are not permitted"),
        ("movielens-100k", {"paths": "x"}, r"paths: Extra inputs are not permitted"),
        ("amazon-raw", {"reviews": "r", "meta": "m", "core": "five"}, r"core: "),
    ],
)
def test_bad_loader_options(name: str, options: dict, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^data\.options for '{name}': .*{problem}"):
        load_dataset(name, options)


# ------------------------------------------------------------------------------------------ CLI

_SCRIPT = Path(sys.executable).with_name("agenticrec")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from agenticrec.cli import main; main()"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a wide terminal."""
    env = {**os.environ, "COLUMNS": "10000"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``agenticrec.cli.main()`` in this process (faster than a subprocess): exit code, stdout, stderr."""
    from agenticrec.cli import main

    monkeypatch.setattr(sys, "argv", ["agenticrec", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


@pytest.fixture
def malformed_items(tmp_path: Path) -> tuple[Path, Path]:
    items = write_lines(tmp_path / "catalogue.jsonl", [json.dumps(ITEM_ROWS[0]), '{"sku": "S2", "title": '])
    return items, good_events(tmp_path)


def test_cli_reports_a_data_error_in_one_line(malformed_items: tuple[Path, Path]) -> None:
    items, events = malformed_items
    result = run_cli("data", "stats", "files", "-o", f"items={items}", "-o", f"interactions={events}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert f"{items}, line 2: malformed record" in lines[0]


def test_cli_reports_a_config_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "10000")
    code, out, err = run_main(
        monkeypatch,
        capsys,
        "data",
        "stats",
        "files",
        "-o",
        "items=a.csv",
        "-o",
        "interactions=b.csv",
        "-o",
        "colour=red",
    )
    assert code == 2
    assert "Traceback" not in err and out == ""
    assert err.strip() == "error: data.options for 'files': colour: Extra inputs are not permitted"


def test_cli_reports_an_unknown_dataset(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "10000")
    code, _, err = run_main(monkeypatch, capsys, "data", "stats", "amazon-books")
    assert code == 2
    assert err.strip().startswith("error: unknown dataset 'amazon-books'; registered: amazon-beauty")


def test_cli_stats_on_good_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "10000")
    code, out, err = run_main(
        monkeypatch,
        capsys,
        "data",
        "stats",
        "files",
        "-o",
        f"items={good_items(tmp_path)}",
        "-o",
        f"interactions={good_events(tmp_path)}",
        "-o",
        "columns.item_id=sku",
        "-o",
        "columns.user_id=customer",
        "-o",
        "columns.timestamp=ts",
    )
    assert code == 0, err
    assert re.search(r"users\s*│\s*2\b", out) and re.search(r"interactions\s*│\s*6\b", out)


def test_cli_error_line_is_not_wrapped_at_80_columns(
    malformed_items: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    items, events = malformed_items
    code, _, err = run_main(
        monkeypatch, capsys, "data", "stats", "files", "-o", f"items={items}", "-o", f"interactions={events}"
    )
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and str(items) in lines[0], err
