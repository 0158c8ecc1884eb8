"""The tagger report's figures, hand-computed on small synthetic artifacts, and the files it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from agenticrec.errors import AgenticRecError
from agenticrec.io import write_json
from agenticrec.tagger import artifacts
from agenticrec.tagger.report import compute_report, summary_table, write_report
from agenticrec.tagger.vocabulary import Descriptor, Vocabulary

EVIL = "<script>alert(1)</script>"


def descriptor(id: str, name: str, parent: str | None, item_count: int) -> Descriptor:
    return Descriptor(
        id=id, name=name, description=f"all {name}", parent=parent, level=id.count(".") + 1, item_count=item_count
    )


def cycle(node: str, level: int, c: int, items: int, assigned: int) -> dict:
    return {
        "event": "cycle",
        "node": node,
        "level": level,
        "cycle": c,
        "items": items,
        "assigned": assigned,
        "unassigned": items - assigned,
        "outliers": 0,
        "coverage": assigned / items,
        "descriptors": 2,
    }


def proposal(c: int, action: str | None) -> dict:
    return {
        "event": "proposal",
        "node": "root",
        "cycle": c,
        "cluster": 0,
        "cluster_size": 2,
        "action": action,
        "valid": action is not None,
        "problem": None if action else "no JSON",
    }


def decision(c: int, approved: bool) -> dict:
    return {"event": "decision", "node": "root", "cycle": c, "cluster": 0, "approved": approved, "reasoning": "ok"}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """Root split (level 1) runs 3 cycles, split "1" (level 2) stops after 1; six items are assigned."""
    out = artifacts.tagger_dir(tmp_path)
    out.mkdir(parents=True)
    Vocabulary(
        dataset="toy",
        n_items=6,
        descriptors=[
            descriptor("1", "fruit", None, 5),
            descriptor("2", EVIL, None, 1),
            descriptor("1.1", "apples", "1", 3),
            descriptor("1.2", "citrus", "1", 1),
        ],
    ).save(out / artifacts.VOCABULARY)
    log = [
        {"event": "split", "node": "root", "level": 1, "items": 6, "annotated": 6},
        {"event": "initial_proposal", "node": "root", "children": ["fruit"]},
        cycle("root", 1, 1, 6, 3),
        proposal(1, "CREATE_NEW_CATEGORY"),
        decision(1, True),
        cycle("root", 1, 2, 6, 5),
        proposal(2, "EXPAND_EXISTING_CATEGORY"),
        decision(2, False),
        proposal(2, None),
        cycle("root", 1, 3, 6, 6),
        {
            "event": "split_done",
            "node": "root",
            "level": 1,
            "dropped_empty": [],
            "stopped_by": "coverage",
            "children": [{"id": "1", "name": "fruit", "item_count": 5}, {"id": "2", "name": EVIL, "item_count": 1}],
        },
        {"event": "split", "node": "1", "level": 2, "items": 5, "annotated": 4},
        cycle("1", 2, 1, 4, 3),
        {
            "event": "split_done",
            "node": "1",
            "level": 2,
            "dropped_empty": [],
            "stopped_by": "max cycles",
            "children": [
                {"id": "1.1", "name": "apples", "item_count": 3},
                {"id": "1.2", "name": "citrus", "item_count": 1},
            ],
        },
    ]
    (out / artifacts.BUILD_LOG).write_text("".join(json.dumps(e) + "\n" for e in log))
    role = {"calls": 6, "cached": 0, "failed": 1, "tokens_in": 600, "tokens_out": 60}
    write_json(
        out / artifacts.BUILD_SUMMARY,
        {
            "dataset": "toy",
            "items": 6,
            "wall_seconds": 12.0,
            "llm": {"architect": {**role, "calls": 3}, "annotator": role},
        },
    )
    write_json(
        out / artifacts.ASSIGN_SUMMARY,
        {"method": "llm", "items": 6, "wall_seconds": 3.0, "llm": {"assigner": {**role, "calls": 12}}},
    )
    paths = [["1", "1.1"]] * 3 + [["1", "1.2"], ["1"], ["2"]]  # three items share fruit > apples
    names = {"1": "fruit", "2": EVIL, "1.1": "apples", "1.2": "citrus"}
    pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(6)],
            "item_index": range(6),
            "descriptor_ids": paths,
            "descriptor_names": [[names[d] for d in p] for p in paths],
            "sources": [["llm"] * len(p) for p in paths],
            "resolver": [0, 1, 2, 0, 0, 0],
            "semantic_id": ["1-1-0", "1-1-1", "1-1-2", "1-2-0", "1-0", "2-0"],
        }
    ).to_parquet(out / artifacts.ASSIGNMENTS)
    return tmp_path


def test_figures(run_dir):
    report = compute_report(run_dir)
    assert report["vocabulary_size"] == 4 and report["size_per_level"] == {1: 2, 2: 2}
    # split "1" stopped after cycle 1: its 3 of 4 carry into cycles 2 and 3
    assert report["coverage_per_cycle"] == pytest.approx([6 / 10, 8 / 10, 9 / 10])
    by_level = report["coverage_per_cycle_by_level"]
    assert by_level[1] == pytest.approx([3 / 6, 5 / 6, 1.0]) and by_level[2] == [3 / 4]
    assert report["proposals"] == {"CREATE_NEW_CATEGORY": 1, "EXPAND_EXISTING_CATEGORY": 1, "none": 1}
    assert report["invalid_proposals"] == 1 and report["approval_rate"] == 0.5
    assert report["stopped_by"] == {"coverage": 1, "max cycles": 1}
    # on paths: fruit 5, apples 3, citrus 1, dairy 1; at path ends among leaves: apples 3, citrus 1, EVIL 1
    assert report["utilisation"] == 0.5 and report["leaf_utilisation"] == pytest.approx(1 / 3)
    spread = report["items_per_descriptor"]
    assert (spread["min"], spread["median"], spread["mean"], spread["max"]) == (1, 2, 2.5, 5)
    assert spread["counts"] == {"1": 5, "2": 1, "1.1": 3, "1.2": 1}
    assert report["collision_rate"] == 0.5 and report["largest_bucket"] == 3 and report["distinct_paths"] == 4
    assert report["path_depths"] == {1: 2, 2: 4} and report["label_sources"] == {"llm": 10}
    assert report["build_per_item"]["llm_calls"] == pytest.approx(9 / 6)
    assert report["build_per_item"]["tokens_in"] == 200 and report["build_per_item"]["wall_seconds"] == 2.0
    assert report["build_per_item"]["failed_calls"] == 2
    assert report["assign_per_item"]["llm_calls"] == 2.0 and report["assign_per_item"]["wall_seconds"] == 0.5
    assert report["keywords"] is None


def test_write_report_escapes_llm_text(run_dir):
    out = artifacts.tagger_dir(run_dir)
    write_json(
        out / artifacts.KEYWORDS_SUMMARY,
        {"items": 6, "unique_keywords": 9, "keyword_reused_share": 0.4, "descriptor_reused_share": 0.8},
    )
    page_path = write_report(run_dir)
    assert page_path == out / artifacts.REPORT
    page = page_path.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    pngs = {"coverage_per_cycle.png", "vocabulary_per_level.png", "items_per_descriptor.png"}
    assert {p.name for p in out.glob("*.png")} == pngs
    assert all((out / p).read_bytes().startswith(b"\x89PNG") and f'src="{p}"' in page for p in pngs)
    assert "<details>" in page and "apples" in page and "(1.1, 3 items, 3 assigned)" in page
    saved = json.loads((out / "report.json").read_text())
    assert saved["largest_bucket"] == 3 and saved["keywords"]["unique_keywords"] == 9
    assert not list(out.glob(".*.tmp"))


def test_report_after_build_alone(run_dir):
    out = artifacts.tagger_dir(run_dir)
    (out / artifacts.ASSIGNMENTS).unlink()
    (out / artifacts.ASSIGN_SUMMARY).unlink()
    report = compute_report(run_dir)
    assert report["assign_per_item"] is None and "collision_rate" not in report and "utilisation" not in report
    assert report["coverage_per_cycle"] == pytest.approx([0.6, 0.8, 0.9])
    write_report(run_dir)
    assert {p.name for p in out.glob("*.png")} == {"coverage_per_cycle.png", "vocabulary_per_level.png"}
    console = Console(width=200, record=True)
    console.print(summary_table(report))
    shown = console.export_text()
    assert "collision rate" in shown and "0.900" in shown


def test_missing_artifacts_are_named(run_dir, tmp_path):
    with pytest.raises(AgenticRecError, match="no vocabulary"):
        compute_report(tmp_path / "elsewhere")
    (artifacts.tagger_dir(run_dir) / artifacts.BUILD_LOG).unlink()
    with pytest.raises(AgenticRecError, match=r"build_log\.jsonl"):
        write_report(run_dir)
