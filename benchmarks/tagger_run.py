"""AgenticTagger end to end on one dataset: build, assign, keyword baseline, judge audit and report, each timed.

    .venv/bin/python benchmarks/tagger_run.py --config configs/tagger-movielens-100k.yaml --fresh
    .venv/bin/python benchmarks/tagger_run.py --config configs/tagger-amazon-beauty.yaml --llm qwen-1.5b \
        --stages build assign audit --set run_dir=runs/tagger-amazon-beauty-qwen15 --fresh

Writes benchmarks/results/tagger_<dataset>_<model>[_<variant>].json (model `smollm2`, or `qwen15` with the
qwen-1.5b preset) with a top-level `summary` (largest_path_share, level1_nmi_categories where the catalogue has
categories, names_passing_share, utilisation, names_copied_from_titles, judge_precision, llm_calls_per_item and
wall_minutes of build + assign)
and the BENCHMARKS.md section of the same name.
`--features THIS.json GROUPS.json` adds descriptor_features_ndcg10 and groups_descriptor_features_ndcg10: the masked
test NDCG@10 of SASRec with descriptor-ID features (generative_retrieval.py, variant sasrec-ss+descriptors-refit) on
this run's IDs and on the groups vocabulary's; with --report-only it joins the saved summary.
Without --fresh an existing run directory is reused, so every finished LLM call is replayed from the
ledger (use that to resume a long run, not to time one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from agenticrec.pipeline import load_config
from agenticrec.pipeline.stages import tag_assign, tag_audit, tag_build, tag_keywords
from agenticrec.tagger.report import compute_report, key_figures, write_report
from common import RESULTS, command, machine, save, summary_key, update_section

STAGES = {"build": tag_build, "assign": tag_assign, "keywords": tag_keywords, "audit": tag_audit}
MODEL_TAGS = {None: "smollm2", "qwen-1.5b": "qwen15"}
FEATURES = "sasrec-ss+descriptors-refit"  # the generative_retrieval.py variant with descriptor-ID features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, key.path=value")
    parser.add_argument("--fresh", action="store_true", help="delete the run directory first")
    parser.add_argument("--llm", default=None, help="an LLM preset (e.g. qwen-1.5b); default: embedded SmolLM2")
    parser.add_argument("--stages", nargs="*", default=list(STAGES), choices=list(STAGES), help="stages to run")
    parser.add_argument("--note", default="", help="a sentence for BENCHMARKS.md (e.g. what else ran meanwhile)")
    parser.add_argument("--variant", help="a suffix of the results' name, e.g. annotator (labels: annotator)")
    parser.add_argument(
        "--features",
        nargs=2,
        type=Path,
        metavar=("THIS", "GROUPS"),
        help=f"generative_retrieval.py results of {FEATURES} on this run's descriptor IDs and on the groups "
        "vocabulary's: their masked test NDCG@10 join the summary (descriptor_features_ndcg10, "
        "groups_descriptor_features_ndcg10)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run no stage: rewrite the figures from the run directory and the saved stage times",
    )
    args = parser.parse_args()
    config = load_config(args.config, args.set, llm=args.llm)
    name = f"tagger_{config.data.name}_{MODEL_TAGS.get(args.llm, args.llm)}" + (
        f"_{args.variant}" if args.variant else ""
    )
    downstream = features_summary(args.features, config.data.name) if args.features else {}
    if args.report_only:
        saved = json.loads((RESULTS / f"{name}.json").read_text())
        seconds, run_command = saved["stage_seconds"], saved["command"]
        if args.features:  # the downstream figures arrive after the tagger's run
            saved["summary"] |= downstream
            (RESULTS / f"{name}.json").write_text(json.dumps(saved, indent=2) + "\n")
    else:
        run_command = command()
        if args.fresh and Path(config.run_dir).exists():
            shutil.rmtree(config.run_dir)
        seconds = {}
        for stage_name in args.stages:
            started = time.perf_counter()
            STAGES[stage_name](config)
            seconds[stage_name] = time.perf_counter() - started
    write_report(config.run_dir)
    report = compute_report(config.run_dir)
    llm = config.llm.role("annotator")
    model = config.llm.backends[llm.backend].model_dump(mode="json")
    protocol = {
        "config": str(args.config),
        "llm_preset": args.llm,
        "overrides": args.set,
        "tagger": config.tagger.model_dump(),
        "annotator_backend": model,
    }
    if not args.report_only:
        spread = {k: v for k, v in report.get("items_per_descriptor", {}).items() if k != "counts"}
        save(
            name,
            {**report, "items_per_descriptor": spread},
            protocol,
            stage_seconds=seconds,
            summary=summary_of(report, seconds) | downstream,
        )
    update_section(name, markdown(name, config.data.name, report, seconds, model, args.note, run_command, downstream))
    written = "BENCHMARKS.md" if args.report_only else f"benchmarks/results/{name}.json and BENCHMARKS.md"
    print(f"wrote {written} (stages took {sum(seconds.values()) / 60:.1f} min)")


def summary_of(report: dict, seconds: dict) -> dict[str, float | int | None]:
    """The issue's named figures; LLM calls and minutes count build and assign (the audit is extra)."""
    quality = report.get("quality") or {}
    calls = sum((report.get(f"{stage}_per_item") or {}).get("llm_calls", 0.0) for stage in ("build", "assign"))
    summary = {
        "largest_path_share": report["largest_bucket"] / report["items"] if "largest_bucket" in report else None,
        "path_entropy_normalised": quality.get("path_entropy_normalised"),
        "names_copied_from_titles": quality.get("names_copied_from_titles"),
        "judge_precision": (report.get("audit") or {}).get("judge_precision"),
        "judge_recall": (report.get("audit") or {}).get("judge_recall"),
        "names_passing_share": names_passing_share(report.get("naming") or {}),
        "utilisation": report.get("utilisation"),
        "llm_calls_per_item": calls,
        "wall_minutes": (seconds.get("build", 0.0) + seconds.get("assign", 0.0)) / 60,
    }
    if "level1_nmi_category2" in quality:
        summary["level1_nmi_categories"] = quality["level1_nmi_category2"]
        summary["leaf_nmi_category3"] = quality.get("leaf_nmi_category3")
    return summary


def features_summary(paths: list[Path], dataset: str) -> dict[str, float]:
    """Masked test NDCG@10 of SASRec with descriptor-ID features, on this run's IDs and on the groups vocabulary's,
    from generative_retrieval.py results (the mean over their seeds)."""
    key = summary_key(dataset, FEATURES, "ndcg10", "masked")
    figures = {}
    for name, path in zip(("descriptor_features_ndcg10", "groups_descriptor_features_ndcg10"), paths):
        summary = json.loads(path.read_text())["summary"]
        if key not in summary:
            raise SystemExit(f"{path}: no {key} in its summary (run generative_retrieval.py --variants {FEATURES})")
        figures[name] = summary[key]
    return figures


def names_passing_share(naming: dict[str, int]) -> float | None:
    """The share of the architect's names that passed the name checks (the others were re-asked or replaced)."""
    checked = naming.get("names_checked", 0)
    return (checked - naming["names_rejected"]) / checked if checked else None


def markdown(
    name: str, dataset: str, r: dict, seconds: dict, model: dict, note: str, run_command: str, downstream: dict
) -> str:
    rows = [
        ("items", str(r["items"])),
        *key_figures(r),
        *((f"{key} (SASRec, masked test, seed mean)", f"{value:.4f}") for key, value in downstream.items()),
        ("wall seconds: " + " / ".join(seconds), " / ".join(f"{s:.0f}" for s in seconds.values())),
    ]
    table = "\n".join(f"| {label} | {value} |" for label, value in rows)
    m = machine()
    return (
        f"## AgenticTagger on {dataset} ({name.rsplit('_', 1)[1]})\n\n"
        f"Command: `{run_command}`  \n"
        f"Machine: {m['cpu']}, {m['cores_available']} cores; LLM: {model}  \n"
        f"Raw figures: `benchmarks/results/{name}.json`. {note}\n\n| figure | value |\n|---|---|\n{table}\n"
    )


if __name__ == "__main__":
    main()
