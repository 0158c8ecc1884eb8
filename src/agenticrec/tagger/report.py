"""The tagger's quality and cost report: figures (report.json), PNG plots and an HTML page with the tree
(rendered from agenticrec/render/templates/tagger_report.html.j2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import pandas as pd
from rich.table import Table

from agenticrec.io import atomic_path, atomic_write_text, write_json
from agenticrec.render import render_html
from agenticrec.tagger import artifacts
from agenticrec.tagger.assign import collision_figures
from agenticrec.tagger.vocabulary import Vocabulary

REPORT_JSON = "report.json"


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def coverage_per_cycle(log: list[dict[str, Any]], level: int | None = None) -> list[float]:
    """Assigned / annotated items after each refinement cycle, summed over splits (the paper's Figure 4).

    A split that stopped early carries its last figures into the later cycles; `level` keeps only the
    splits that create descriptors of that level.
    """
    splits: dict[str, dict[int, dict[str, Any]]] = {}
    for e in log:
        if e["event"] == "cycle" and (level is None or e["level"] == level):
            splits.setdefault(e["node"], {})[e["cycle"]] = e
    runs = [[cycles[c] for c in sorted(cycles)] for cycles in splits.values()]
    coverage = []
    for c in range(max(map(len, runs), default=0)):
        rows = [run[min(c, len(run) - 1)] for run in runs]
        coverage.append(sum(r["assigned"] for r in rows) / max(sum(r["items"] for r in rows), 1))
    return coverage


def _costs(summary: dict[str, Any] | None) -> dict[str, float] | None:
    """LLM calls, tokens and wall seconds per item of a stage summary (all roles together)."""
    if summary is None:
        return None
    roles = summary.get("llm", {}).values()
    n = max(summary["items"], 1)
    return {
        "items": summary["items"],
        "llm_calls": sum(r["calls"] for r in roles) / n,
        "llm_calls_cached": sum(r["cached"] for r in roles) / n,
        "tokens_in": sum(r["tokens_in"] for r in roles) / n,
        "tokens_out": sum(r["tokens_out"] for r in roles) / n,
        "wall_seconds": summary["wall_seconds"] / n,
        "failed_calls": sum(r["failed"] for r in roles),
    }


def _assignment_figures(vocabulary: Vocabulary, table: pd.DataFrame) -> dict[str, Any]:
    """Utilisation, items per descriptor, collisions and depths of the assigned descriptor paths."""
    paths = [tuple(p) for p in table["descriptor_ids"]]
    on_path = Counter(d for p in paths for d in p)
    at_end = Counter(p[-1] for p in paths if p)
    counts = {d.id: on_path[d.id] for d in vocabulary.descriptors}
    parents = {d.parent for d in vocabulary.descriptors}
    leaves = [d.id for d in vocabulary.descriptors if d.id not in parents]
    values = list(counts.values())
    return {
        "assigned_items": len(paths),
        "utilisation": _share(sum(c > 1 for c in values), len(values)),
        "leaf_utilisation": _share(sum(at_end[d] > 1 for d in leaves), len(leaves)),
        "unused_descriptors": sum(c == 0 for c in values),
        "items_per_descriptor": {
            "min": min(values, default=0),
            "median": median(values) if values else 0,
            "mean": sum(values) / len(values) if values else 0,
            "max": max(values, default=0),
            "counts": counts,
        },
        **collision_figures(table),
        "path_depths": dict(sorted(Counter(map(len, paths)).items())),
        "label_sources": dict(Counter(s for row in table["sources"] for s in row)),
    }


def compute_report(run_dir: Path) -> dict[str, Any]:
    """Every figure of the report from the artifacts in RUN_DIR/tagger; assignment figures only after `tag assign`."""
    out = artifacts.tagger_dir(run_dir)
    vocabulary = Vocabulary.load(out / artifacts.VOCABULARY)
    log = artifacts.read_build_log(run_dir, artifacts.BUILD_LOG)

    def optional(name: str) -> dict[str, Any] | None:
        return artifacts.read_json(run_dir, name) if (out / name).is_file() else None

    proposals = [e for e in log if e["event"] == "proposal"]
    decisions = [e for e in log if e["event"] == "decision"]
    assign_summary = optional(artifacts.ASSIGN_SUMMARY)
    build_summary = optional(artifacts.BUILD_SUMMARY) or {}
    report: dict[str, Any] = {
        "dataset": vocabulary.dataset,
        "items": vocabulary.n_items,
        "vocabulary_size": len(vocabulary.descriptors),
        "size_per_level": vocabulary.size_per_level(),
        "coverage_per_cycle": coverage_per_cycle(log),
        "coverage_per_cycle_by_level": {lvl: coverage_per_cycle(log, lvl) for lvl in vocabulary.size_per_level()},
        "splits": sum(e["event"] == "split" for e in log),
        "stopped_by": dict(Counter(e["stopped_by"] for e in log if e["event"] == "split_done")),
        "proposals": dict(Counter(p["action"] or "none" for p in proposals)),
        "invalid_proposals": sum(not p["valid"] for p in proposals),
        "approval_rate": _share(sum(d["approved"] for d in decisions), len(decisions)),
        "naming": build_summary.get("naming"),
        "name_failures": build_summary.get("name_failures"),
        "unbalanced_splits": build_summary.get("unbalanced_splits"),
        "flagged_items": build_summary.get("flagged_items", []),
        "build_per_item": _costs(build_summary or None),
        "assign_per_item": _costs(assign_summary),
        "keywords": optional(artifacts.KEYWORDS_SUMMARY),
        "audit": optional(artifacts.AUDIT_SUMMARY),
    }
    if (out / artifacts.ASSIGNMENTS).is_file():
        report |= _assignment_figures(vocabulary, artifacts.read_assignments(run_dir, artifacts.ASSIGNMENTS))
        assigned = assign_summary or {}
        report["classifier_agreement"] = assigned.get("classifier_agreement")
        report["largest_share_gap"] = assigned.get("largest_share_gap")
        report["rebalanced_nodes"] = assigned.get("rebalanced_nodes")
        report["quality"] = assigned.get("quality")
    return report


def format_figure(value: Any) -> str:
    """Floats to three decimals, also inside lists and dicts; None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(map(format_figure, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_figure(v)}" for k, v in value.items()) + "}"
    return str(value)


def name_failure_lines(failures: dict[str, dict[str, Any]] | None) -> list[str] | None:
    """Each kind of name-check failure as 'kind: count, e.g. "name" (message)'."""
    if not failures:
        return None
    return [f"{kind}: {f['count']}, e.g. {f['example']!r} ({f['problem']})" for kind, f in failures.items()]


def key_figures(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) of the figures shown in the terminal and in the HTML table."""
    spread = report.get("items_per_descriptor")
    figures: list[tuple[str, Any]] = [
        ("descriptors", report["vocabulary_size"]),
        ("descriptors per level", report["size_per_level"]),
        ("coverage per cycle", report["coverage_per_cycle"]),
        ("coverage per cycle by level", report["coverage_per_cycle_by_level"]),
        ("splits", report["splits"]),
        ("split stop reasons", report["stopped_by"]),
        ("proposals by action", report["proposals"]),
        ("invalid proposals", report["invalid_proposals"]),
        ("approval rate", report["approval_rate"]),
        ("utilisation (used by >1 item)", report.get("utilisation")),
        ("leaf utilisation (path ends)", report.get("leaf_utilisation")),
        ("unused descriptors", report.get("unused_descriptors")),
        ("items per descriptor min/median/mean/max", spread and [spread[k] for k in ("min", "median", "mean", "max")]),
        ("distinct paths", report.get("distinct_paths")),
        ("collision rate", report.get("collision_rate")),
        ("largest bucket", report.get("largest_bucket")),
        ("path depths", report.get("path_depths")),
        ("label sources", report.get("label_sources")),
        ("classifier agreement", report.get("classifier_agreement")),
        ("routed vs labelled child shares: largest gap", report.get("largest_share_gap")),
        ("nodes routed again to follow the labelled shares", report.get("rebalanced_nodes")),
        ("names: checked / rejected / keyphrase fallbacks / groups dropped", report.get("naming")),
        ("rejected names by reason (count, first example)", name_failure_lines(report.get("name_failures"))),
        ("unbalanced splits", report.get("unbalanced_splits")),
        ("items flagged as instruction-like (never naming evidence)", report.get("flagged_items")),
    ]
    figures += [(label.replace("_", " "), value) for label, value in (report.get("quality") or {}).items()]
    for stage in ("build", "assign"):
        costs = report[f"{stage}_per_item"]
        figures.append(
            (
                f"{stage}: LLM calls / tokens in / tokens out / seconds per item",
                costs and [costs[k] for k in ("llm_calls", "tokens_in", "tokens_out", "wall_seconds")],
            )
        )
    figures.append(("keywords", report["keywords"]))
    audit = report.get("audit")
    verdicts = audit and [audit[k] for k in ("judge_precision", "judge_recall")]
    figures.append(("judge audit: precision / recall of 'fits'", verdicts))
    return [(label, format_figure(value)) for label, value in figures]


def summary_table(report: dict[str, Any]) -> Table:
    """The key figures for the terminal."""
    table = Table("figure", "value", title=f"tagger report: {report['dataset']}")
    for label, value in key_figures(report):
        table.add_row(label, value)
    return table


def _save_plot(path: Path, draw: Callable[[Any], None]) -> None:
    """Draw on a fresh Agg figure's axes and write it atomically as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    FigureCanvasAgg(fig)
    draw(fig.subplots())
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def _write_plots(out: Path, report: dict[str, Any]) -> list[str]:
    """Write the report's plots into `out`; return their file names."""
    from matplotlib.ticker import MaxNLocator

    def coverage(ax: Any) -> None:
        lines = {
            "all levels": report["coverage_per_cycle"],
            **{f"level {k}": v for k, v in report["coverage_per_cycle_by_level"].items()},
        }
        for label, values in lines.items():
            ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
        ax.set(xlabel="refinement cycle", ylabel="coverage", title="Coverage per refinement cycle", ylim=(0, 1.02))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()

    def sizes(ax: Any) -> None:
        levels = report["size_per_level"]
        ax.bar([str(k) for k in levels], list(levels.values()))
        ax.set(xlabel="level", ylabel="descriptors", title="Vocabulary size per level")

    def spread(ax: Any) -> None:
        ax.hist(list(report["items_per_descriptor"]["counts"].values()), bins=30)
        ax.set(
            xlabel="items per descriptor (item counted on every level)",
            ylabel="descriptors",
            title="Items per descriptor",
        )
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    plots = {"coverage_per_cycle.png": coverage, "vocabulary_per_level.png": sizes}
    if "items_per_descriptor" in report:
        plots["items_per_descriptor.png"] = spread
    for name, draw in plots.items():
        _save_plot(out / name, draw)
    return list(plots)


def _tree(vocabulary: Vocabulary, assigned: dict[str, int] | None, parent: str | None = None) -> list[dict[str, Any]]:
    """The vocabulary below `parent` as nested dicts for the template; `assigned` is None before assignment."""
    return [
        {
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "item_count": d.item_count,
            "assigned": None if assigned is None else assigned.get(d.id, 0),
            "children": _tree(vocabulary, assigned, d.id),
        }
        for d in vocabulary.children(parent)
    ]


def write_report(run_dir: Path) -> Path:
    """Write report.json, PNG plots and report.html into RUN_DIR/tagger; return the HTML path."""
    out = artifacts.tagger_dir(run_dir)
    report = compute_report(run_dir)
    vocabulary = Vocabulary.load(out / artifacts.VOCABULARY)
    write_json(out / REPORT_JSON, report)
    assigned = report.get("items_per_descriptor", {}).get("counts")
    page = render_html(
        "tagger_report.html.j2",
        report=report,
        figures=key_figures(report),
        plots=_write_plots(out, report),
        tree=_tree(vocabulary, assigned),
    )
    atomic_write_text(out / artifacts.REPORT, page)
    return out / artifacts.REPORT
