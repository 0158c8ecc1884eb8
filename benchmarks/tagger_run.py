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

from agenticrec.pipeline import load_config
from agenticrec.pipeline.stages import tag_assign, tag_build, tag_keywords
from agenticrec.tagger.report import compute_report, key_figures, write_report
from common import RESULTS, command, machine, save, update_section

STAGES = {"build": tag_build, "assign": tag_assign, "keywords": tag_keywords}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, key.path=value")
    parser.add_argument("--fresh", action="store_true", help="delete the run directory first")
    parser.add_argument("--note", default="", help="a sentence for BENCHMARKS.md (e.g. what else ran meanwhile)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run no stage: rewrite the figures from the run directory and the saved stage times",
    )
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
    llm = config.llm.role("annotator")
    model = config.llm.backends[llm.backend].model_dump(mode="json")
    protocol = {
        "config": str(args.config),
        "overrides": args.set,
        "tagger": config.tagger.model_dump(),
        "annotator_backend": model,
    }
    if not args.report_only:
        spread = {k: v for k, v in report.get("items_per_descriptor", {}).items() if k != "counts"}
        save(name, {**report, "items_per_descriptor": spread}, protocol, stage_seconds=seconds)
    update_section(name, markdown(name, config.data.name, report, seconds, model, args.note, run_command))
    written = "BENCHMARKS.md" if args.report_only else f"benchmarks/results/{name}.json and BENCHMARKS.md"
    print(f"wrote {written} (stages took {sum(seconds.values()) / 60:.1f} min)")


def markdown(name: str, dataset: str, r: dict, seconds: dict, model: dict, note: str, run_command: str) -> str:
    rows = [
        ("items", str(r["items"])),
        *key_figures(r),
        ("wall seconds: " + " / ".join(seconds), " / ".join(f"{s:.0f}" for s in seconds.values())),
    ]
    table = "\n".join(f"| {label} | {value} |" for label, value in rows)
    m = machine()
    return (
        f"## AgenticTagger on {dataset}\n\n"
        f"Command: `{run_command}`  \n"
        f"Machine: {m['cpu']}, {m['cores_available']} cores; LLM: {model}  \n"
        f"Raw figures: `benchmarks/results/{name}.json`. {note}\n\n| figure | value |\n|---|---|\n{table}\n"
    )


if __name__ == "__main__":
    main()
