"""AgenticTagger end to end on one dataset: build, assign, keyword baseline and report, each timed.

    .venv/bin/python benchmarks/tagger_run.py --config configs/tagger-movielens-100k.yaml --fresh

Writes benchmarks/results/tagger_<dataset>.json and the BENCHMARKS.md section `tagger_<dataset>`.
Without --fresh an existing run directory is reused, so every finished LLM call is replayed from the
ledger (use that to resume a long run, not to time one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from common import RESULTS, command, machine, save, update_section
from agenticrec.config import load_config
from agenticrec.tagger.assign import run_assign
from agenticrec.tagger.build import run_build
from agenticrec.tagger.keywords import run_keywords
from agenticrec.tagger.report import compute_report, write_report

STAGES = {"build": run_build, "assign": run_assign, "keywords": run_keywords}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, key.path=value")
    parser.add_argument("--fresh", action="store_true", help="delete the run directory first")
    parser.add_argument("--note", default="", help="a sentence for BENCHMARKS.md (e.g. what else ran meanwhile)")
    parser.add_argument("--report-only", action="store_true",
                        help="run no stage: rewrite the figures from the run directory and the saved stage times")
    args = parser.parse_args()
    config = load_config(args.config, args.set)
    name = f"tagger_{config.data.name}"
    if args.report_only:
        saved = json.loads((RESULTS / f"{name}.json").read_text())
        seconds, run_command = saved["stage_seconds"], saved["command"]
    else:
        run_command = command()
        if args.fresh and Path(config.run_dir).exists():
            shutil.rmtree(config.run_dir)
        seconds = {}
        for stage_name, stage in STAGES.items():
            started = time.perf_counter()
            stage(config)
            seconds[stage_name] = time.perf_counter() - started
    write_report(config.run_dir)
    report = compute_report(config.run_dir)
    report.pop("items_per_descriptor", None)
    llm = config.llm.role("annotator")
    model = config.llm.backends[llm.backend].model_dump(mode="json")
    protocol = {"config": str(args.config), "overrides": args.set, "tagger": config.tagger.model_dump(),
                "annotator_backend": model}
    if not args.report_only:
        save(name, report, protocol, stage_seconds=seconds)
    update_section(name, markdown(name, config.data.name, report, seconds, model, args.note, run_command))
    written = "BENCHMARKS.md" if args.report_only else f"benchmarks/results/{name}.json and BENCHMARKS.md"
    print(f"wrote {written} (stages took {sum(seconds.values()) / 60:.1f} min)")


def _fmt(value: object) -> str:
    """Floats, also inside lists and dicts, to three decimals."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def markdown(name: str, dataset: str, r: dict, seconds: dict, model: dict, note: str, run_command: str) -> str:
    build, assign = r["build_per_item"], r["assign_per_item"]
    keywords = r["keywords"] or {}
    rows = [
        ("items", r["items"]),
        ("descriptors per level", r["size_per_level"]),
        ("coverage after each refinement cycle", [round(c, 3) for c in r["coverage_per_cycle"]]),
        ("split stop reasons", r["stopped_by"]),
        ("change proposals (invalid) / approval rate",
         f"{r['proposals']} ({r['invalid_proposals']}) / {_fmt(r['approval_rate'])}"),
        ("utilisation: descriptors used by >1 item", r.get("utilisation")),
        ("distinct paths / collision rate / largest bucket",
         f"{r.get('distinct_paths')} / {_fmt(r.get('collision_rate'))} / {r.get('largest_bucket')}"),
        ("label sources (assignment)", r.get("label_sources")),
        ("classifier agreement with held-out LLM labels", r.get("classifier_agreement")),
        ("build: LLM calls, tokens in/out, seconds per item",
         f"{build['llm_calls']:.3f}, {build['tokens_in']:.1f}/{build['tokens_out']:.1f}, {build['wall_seconds']:.3f}"),
        ("assign: LLM calls, tokens in/out, seconds per item",
         f"{assign['llm_calls']:.3f}, {assign['tokens_in']:.1f}/{assign['tokens_out']:.1f}, {assign['wall_seconds']:.4f}"),
        ("free-form keywords: items, unique, reused share / descriptors' reused share",
         f"{keywords.get('items')}, {keywords.get('unique_keywords')}, {_fmt(keywords.get('keyword_reused_share'))} / "
         f"{_fmt(keywords.get('descriptor_reused_share'))}"),
        ("wall seconds: build / assign / keywords", " / ".join(f"{s:.0f}" for s in seconds.values())),
    ]
    table = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in rows)
    m = machine()
    return (
        f"## AgenticTagger on {dataset}\n\n"
        f"Command: `{run_command}`  \n"
        f"Machine: {m['cpu']}, {m['cores_available']} cores; LLM: {model}  \n"
        f"Raw figures: `benchmarks/results/{name}.json`. {note}\n\n| figure | value |\n|---|---|\n{table}\n"
    )


if __name__ == "__main__":
    main()
