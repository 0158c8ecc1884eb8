"""The tagger's quality and cost report: figures (report.json), plots (PNG) and an HTML page with the tree."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

from rich.table import Table

from agenticrec.io import atomic_write_text, write_json
from agenticrec.tagger import artifacts
from agenticrec.tagger.vocabulary import Vocabulary


def coverage_per_cycle(log: list[dict[str, Any]], level: int | None = None) -> list[float]:
    """Assigned / annotated items after each refinement cycle, summed over splits (the paper's Figure 4).

    A split that stopped early carries its last figures into the later cycles.
    """
    splits: dict[str, list[dict[str, Any]]] = {}
    for e in log:
        if e["event"] == "cycle" and (level is None or e["level"] == level):
            splits.setdefault(e["node"], []).append(e)
    cycles = max((len(c) for c in splits.values()), default=0)
    out = []
    for c in range(cycles):
        rows = [s[min(c, len(s) - 1)] for s in splits.values()]
        out.append(sum(r["assigned"] for r in rows) / sum(r["items"] for r in rows))
    return out


def _per_item(summary: dict[str, Any] | None) -> dict[str, float] | None:
    if summary is None:
        return None
    llm = summary["llm"].values()
    n = summary["items"]
    return {
        "llm_calls": sum(r["calls"] for r in llm) / n,
        "llm_calls_cached": sum(r["cached"] for r in llm) / n,
        "tokens_in": sum(r["tokens_in"] for r in llm) / n,
        "tokens_out": sum(r["tokens_out"] for r in llm) / n,
        "wall_seconds": summary["wall_seconds"] / n,
        "failed_calls": sum(r["failed"] for r in llm),
    }


def compute_report(run_dir: Path) -> dict[str, Any]:
    """Every figure of the report, from the artifacts in RUN_DIR/tagger (assignment figures need `tag assign`)."""
    out = artifacts.tagger_dir(run_dir)
    vocabulary = Vocabulary.load(out / artifacts.VOCABULARY)
    log = artifacts.read_build_log(out / artifacts.BUILD_LOG)
    optional = {name: artifacts.read_json(out / name) if (out / name).is_file() else None
                for name in (artifacts.BUILD_SUMMARY, artifacts.ASSIGN_SUMMARY, artifacts.KEYWORDS_SUMMARY)}
    proposals = [e for e in log if e["event"] == "proposal"]
    decisions = [e for e in log if e["event"] == "decision"]
    report: dict[str, Any] = {
        "dataset": vocabulary.dataset,
        "items": vocabulary.n_items,
        "vocabulary_size": len(vocabulary.descriptors),
        "size_per_level": vocabulary.size_per_level(),
        "coverage_per_cycle": coverage_per_cycle(log),
        "coverage_per_cycle_by_level": {lvl: coverage_per_cycle(log, lvl) for lvl in vocabulary.size_per_level()},
        "splits": sum(e["event"] == "split" for e in log),
        "stopped_by": dict(Counter(e["stopped_by"] for e in log if e["event"] == "split_done")),
        "proposals": dict(Counter(str(p["action"]) for p in proposals)),
        "invalid_proposals": sum(not p["valid"] for p in proposals),
        "approval_rate": sum(d["approved"] for d in decisions) / len(decisions) if decisions else None,
        "build_per_item": _per_item(optional[artifacts.BUILD_SUMMARY]),
        "assign_per_item": _per_item(optional[artifacts.ASSIGN_SUMMARY]),
        "keywords": optional[artifacts.KEYWORDS_SUMMARY],
    }
    if (out / artifacts.ASSIGNMENTS).is_file():
        report |= _assignment_figures(vocabulary, artifacts.read_assignments(out / artifacts.ASSIGNMENTS))
        summary = optional[artifacts.ASSIGN_SUMMARY] or {}
        report["label_sources"] = summary.get("sources")
        report["classifier_agreement"] = summary.get("classifier_agreement")
    return report


def _assignment_figures(vocabulary: Vocabulary, table: Any) -> dict[str, Any]:
    paths = [tuple(p) for p in table["descriptor_ids"]]
    usage = Counter(d for p in paths for d in p)
    counts = [usage.get(d.id, 0) for d in vocabulary.descriptors]
    buckets = Counter(paths)
    return {
        "utilisation": sum(c > 1 for c in counts) / len(counts),
        "unused_descriptors": sum(c == 0 for c in counts),
        "items_per_descriptor": {"min": min(counts), "median": median(counts), "mean": sum(counts) / len(counts),
                                 "max": max(counts), "counts": counts},
        "distinct_paths": len(buckets),
        "collision_rate": sum(n for n in buckets.values() if n > 1) / len(paths),
        "largest_bucket": max(buckets.values()),
        "path_depths": dict(sorted(Counter(len(p) for p in paths).items())),
    }


def _png(draw: Any) -> str:
    """Run `draw(ax)` on a fresh figure; return the PNG as base64."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(report: dict[str, Any]) -> dict[str, str]:
    def coverage(ax: Any) -> None:
        for label, values in [("all", report["coverage_per_cycle"]),
                              *((f"level {k}", v) for k, v in report["coverage_per_cycle_by_level"].items())]:
            ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
        ax.set(xlabel="refinement cycle", ylabel="coverage", title="Coverage per refinement cycle", ylim=(0, 1.02))
        ax.legend()

    def sizes(ax: Any) -> None:
        levels = report["size_per_level"]
        ax.bar([str(k) for k in levels], list(levels.values()))
        ax.set(xlabel="level", ylabel="descriptors", title="Vocabulary size per level")

    def spread(ax: Any) -> None:
        ax.hist(report["items_per_descriptor"]["counts"], bins=30)
        ax.set(xlabel="items per descriptor", ylabel="descriptors", title="Items per descriptor")

    plots = {"coverage_per_cycle": coverage, "vocabulary_per_level": sizes}
    if "items_per_descriptor" in report:
        plots["items_per_descriptor"] = spread
    return {name: _png(draw) for name, draw in plots.items()}


def _tree_html(vocabulary: Vocabulary, parent: str | None = None) -> str:
    items = []
    for d in vocabulary.children(parent):
        label = (f"<b>{html.escape(d.name)}</b> <small>({html.escape(d.id)}, {d.item_count} items)</small> "
                 f"{html.escape(d.description)}")
        below = _tree_html(vocabulary, d.id)
        items.append(f"<li><details><summary>{label}</summary>{below}</details></li>" if below else f"<li>{label}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def write_report(run_dir: Path) -> Path:
    """Write report.json, the plots as PNG files and report.html into RUN_DIR/tagger; return the HTML path."""
    out = artifacts.tagger_dir(run_dir)
    report = compute_report(run_dir)
    figures = {k: v for k, v in report.items() if k != "items_per_descriptor"}
    if "items_per_descriptor" in report:
        figures["items_per_descriptor"] = {k: v for k, v in report["items_per_descriptor"].items() if k != "counts"}
    write_json(out / "report.json", report)
    images = []
    for name, data in _plots(report).items():
        (out / f"{name}.png").write_bytes(base64.b64decode(data))
        images.append(f'<img alt="{name}" src="data:image/png;base64,{data}">')
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in figures.items())
    page = (
        "<!doctype html><meta charset='utf-8'><title>agenticrec tagger report</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}td,th{text-align:left;padding:2px 8px;"
        "vertical-align:top}img{max-width:48%}</style>"
        f"<h1>Descriptor vocabulary: {html.escape(report['dataset'])}</h1>"
        f"<p>{report['items']} items, {report['vocabulary_size']} descriptors.</p>"
        f"<h2>Figures</h2><table>{rows}</table><h2>Plots</h2>{''.join(images)}"
        f"<h2>Taxonomy</h2>{_tree_html(Vocabulary.load(out / artifacts.VOCABULARY))}"
    )
    atomic_write_text(out / artifacts.REPORT, page)
    return out / artifacts.REPORT


def summary_table(report: dict[str, Any]) -> Table:
    """The key figures for the terminal."""
    table = Table("figure", "value", title=f"tagger report: {report['dataset']}")
    shown = {
        "descriptors per level": report["size_per_level"],
        "coverage per cycle": [round(c, 3) for c in report["coverage_per_cycle"]],
        "utilisation (used by >1 item)": report.get("utilisation"),
        "collision rate": report.get("collision_rate"),
        "largest bucket": report.get("largest_bucket"),
        "build: LLM calls / item": report["build_per_item"] and round(report["build_per_item"]["llm_calls"], 3),
        "assign: LLM calls / item": report["assign_per_item"] and round(report["assign_per_item"]["llm_calls"], 3),
        "classifier agreement": report.get("classifier_agreement"),
    }
    for name, value in shown.items():
        table.add_row(name, "-" if value is None else str(value))
    return table
