"""The Jinja2 rendering module: escaping, strict variables, the base layout and the two report pages."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from agenticrec.render import render_html

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def node(id: str, name: str, children: tuple[dict, ...] = (), assigned: int | None = None) -> dict:
    return {
        "id": id,
        "name": name,
        "description": f"all {name}",
        "item_count": 4,
        "assigned": assigned,
        "children": list(children),
    }


def test_base_renders_the_title_escaped() -> None:
    page = render_html("base.html.j2", title="Runs & <b>models</b>")
    assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page
    assert "<title>Runs &amp; &lt;b&gt;models&lt;/b&gt;</title>" in page


def test_missing_variable_raises() -> None:
    with pytest.raises(jinja2.UndefinedError, match="title"):
        render_html("base.html.j2")


def test_tagger_report_tree_escapes_item_text() -> None:
    tree = [node("1", "fruit", [node("1.1", EVIL, assigned=3)], assigned=5), node("2", "dairy", assigned=0)]
    report = {"dataset": "toy", "items": 9, "vocabulary_size": 3, "size_per_level": {1: 2, 2: 1}, "assigned_items": 9}
    page = render_html(
        "tagger_report.html.j2",
        report=report,
        figures=[("collision rate", "<0.5>")],
        plots=["coverage_per_cycle.png"],
        tree=tree,
    )
    assert ESCAPED in page and "<script>" not in page and f"all {ESCAPED}" in page
    assert "<details><summary><b>fruit</b> <small>(1, 4 items, 5 assigned)</small> all fruit</summary>" in page
    assert "(1.1, 4 items, 3 assigned)" in page and "<li><b>dairy</b>" in page
    assert "<td>&lt;0.5&gt;</td>" in page and 'src="coverage_per_cycle.png"' in page
    assert "9 items, 3 descriptors on 2 levels, 9 items assigned." in page


def test_quickstart_report(tmp_path: Path) -> None:
    from agenticrec.pipeline.tables import TABLE_METRICS
    from agenticrec.quickstart import write_quickstart_report

    results = {"pop<ularity>": {"test": {m: 0.12345 for m in TABLE_METRICS}}}
    rows = [{"item": EVIL, "path": "fruit > apples"}]
    critique = {"summary": f"wants {EVIL}", "vanilla": rows, "critique": []}
    tagger = tmp_path / "tags" / "tagger" / "report.html"
    page = write_quickstart_report(tmp_path, results, {"u1": rows}, critique, tagger, 90.0).read_text()
    assert "<script>" not in page and page.count(ESCAPED) == 3
    assert "<td>pop&lt;ularity&gt;</td>" in page and "<td>0.1235</td>" in page and "1.5 minutes" in page
    assert '<a href="tags/tagger/report.html">' in page and "<h3>user u1</h3>" in page
    assert "<h3>vanilla</h3>" in page and "<h3>critique</h3>" not in page
    assert "<tr><th>#</th><th>item</th><th>path</th></tr>" in page
