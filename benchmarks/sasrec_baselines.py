"""Popularity and SASRec (BCE and full-softmax CE) on Amazon Beauty and Sports: leave-one-out, full ranking.

    .venv/bin/python benchmarks/sasrec_baselines.py                      # 3 seeds, both datasets, all models
    .venv/bin/python benchmarks/sasrec_baselines.py --jobs 12            # run in parallel (e.g. on one GPU)
    .venv/bin/python benchmarks/sasrec_baselines.py --datasets amazon-beauty --models sasrec-ce --seeds 0

Writes benchmarks/results/<name>.json and the <name> section of BENCHMARKS.md. Runs already in the results
file for other (dataset, model, seed) combinations are kept, so the table can be filled in several sittings;
``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from common import RESULTS, command, machine, save, update_section

MODELS = {
    "popularity": ["model.name=popularity"],
    "sasrec-bce": ["model.name=sasrec", "model.loss=bce"],
    "sasrec-ce": ["model.name=sasrec", "model.loss=ce"],
}
# NDCG@10 targets (full ranking, leave-one-out): TIGER Table 1 for BCE, a 2025 study for full-softmax CE.
TARGETS = {
    ("amazon-beauty", "sasrec-bce"): 0.0318,
    ("amazon-sports", "sasrec-bce"): 0.0192,
    ("amazon-beauty", "sasrec-ce"): 0.050,
    ("amazon-sports", "sasrec-ce"): 0.029,
}
REPORTED = ["ndcg@10", "recall@10", "ndcg@20", "recall@20", "mrr", "coverage@10", "exposure@10_tail"]


def run_one(dataset: str, model: str, seed: int, runs_dir: Path, overrides: list[str], threads: int) -> dict[str, Any]:
    import torch

    from agenticrec.config import load_config
    from agenticrec.pipeline import train_and_evaluate

    torch.set_num_threads(threads)
    config = load_config(None, [f"data.name={dataset}", *MODELS[model], f"seed={seed}", *overrides,
                                f"run_dir={runs_dir / f'{dataset}-{model}-seed{seed}'}"])
    result = train_and_evaluate(config)
    return {"dataset": dataset, "model": model, "seed": seed, "command": command(), "machine": result["machine"],
            "finished": result["finished"], "test": result["test"], "valid": result["valid"],
            "train": result["train"], "wall_seconds": result["wall_seconds"],
            "config": config.model_dump(mode="json", exclude={"llm"})}


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["model"]), []).append(run)
    rows = []
    for (dataset, model), group in groups.items():
        row: dict[str, Any] = {"dataset": dataset, "model": model, "seeds": [r["seed"] for r in group]}
        for metric in REPORTED:
            values = [r["test"][metric] for r in group]
            row[metric] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
        row["best_epoch"] = [r["train"].get("best_epoch") for r in group]
        row["stopped_by"] = sorted({r["train"].get("stopped_by", "-") for r in group if r["train"]})
        row["wall_seconds_per_run"] = statistics.fmean(r["wall_seconds"] for r in group)
        row["target_ndcg@10"] = TARGETS.get((dataset, model))
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], runs: list[dict[str, Any]], protocol: dict[str, Any]) -> str:
    info = machine()
    where = info.get("gpu") or f"{info['cpu']}, {info['cores_available']} cores"
    commands = sorted({r["command"] for r in runs})
    lines = [
        "## SASRec baselines (popularity, SASRec-BCE, SASRec-CE)",
        "",
        "Commands: " + ", ".join(f"`{c}`" for c in commands) + "  ",
        f"Machine: {where}, torch {info.get('torch')}; last updated {time.strftime('%Y-%m-%d')}  ",
        f"Protocol: {protocol['split']}; {protocol['ranking']}; history masked: {protocol['history_masked']}; "
        f"test metrics, mean (± std where several seeds ran) over seeds {protocol['seeds']}; early stopping on validation NDCG@10.  ",
        f"Hyperparameters: {protocol['hyperparameters']}",
        "",
        "| dataset | model | seeds | NDCG@10 | target | Recall@10 | NDCG@20 | MRR | coverage@10 | tail exposure@10 | best epochs | stopped by | s/run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seeds = len(row["best_epoch"])
        cell = lambda m: f"{row[m]['mean']:.4f}" + (f" ± {row[m]['std']:.4f}" if seeds > 1 else "")  # noqa: E731
        target = row["target_ndcg@10"]
        verdict = "–" if target is None else f"{target} ({'met' if row['ndcg@10']['mean'] >= target else 'missed'})"
        lines.append(
            f"| {row['dataset']} | {row['model']} | {seeds} | {cell('ndcg@10')} | {verdict} | {cell('recall@10')} | "
            f"{cell('ndcg@20')} | {cell('mrr')} | {cell('coverage@10')} | {cell('exposure@10_tail')} | "
            f"{row['best_epoch']} | {', '.join(row['stopped_by']) or '-'} | {row['wall_seconds_per_run']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["amazon-beauty", "amazon-sports"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides for every run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--name", default="sasrec_baselines", help="results file and BENCHMARKS.md section")
    parser.add_argument("--fresh", action="store_true", help="drop runs kept from earlier invocations")
    parser.add_argument("--report-only", action="store_true", help="rewrite the table from the results file")
    args = parser.parse_args()

    started = time.perf_counter()
    jobs = [] if args.report_only else [(d, m, s) for d in args.datasets for m in args.models for s in args.seeds]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    if args.jobs == 1 or not jobs:
        runs = [run_one(d, m, s, args.runs_dir, args.overrides, threads) for d, m, s in jobs]
    else:
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(run_one, d, m, s, args.runs_dir, args.overrides, threads) for d, m, s in jobs]
            runs = [f.result() for f in futures]
    wall = time.perf_counter() - started
    previous = RESULTS / f"{args.name}.json"
    if previous.exists() and not args.fresh:
        done = {(r["dataset"], r["model"], r["seed"]) for r in runs}
        kept = [r for r in json.loads(previous.read_text())["runs"] if (r["dataset"], r["model"], r["seed"]) not in done]
        runs = kept + runs
    sasrec = next((r["config"]["model"] for r in runs if r["model"] != "popularity"), {})
    train = runs[0]["config"]["train"]
    protocol = {
        "split": "leave-one-out (last item test, second-last validation)",
        "ranking": "full ranking over all items",
        "history_masked": runs[0]["config"]["evaluate"]["mask_history"],
        "seeds": sorted({r["seed"] for r in runs}),
        "hyperparameters": {**{k: v for k, v in sasrec.items() if k not in ("name", "loss")},
                            **{k: train.get(k) for k in ("epochs", "batch_size", "lr", "weight_decay", "patience",
                                                         "eval_every", "max_minutes")}},
    }
    rows = summarise(runs)
    path = save(args.name, rows, protocol, runs=runs)
    update_section(args.name, markdown(rows, runs, protocol))
    for row in rows:
        print(f"{row['dataset']:15s} {row['model']:11s} ndcg@10 {row['ndcg@10']['mean']:.4f} ± {row['ndcg@10']['std']:.4f}"
              f"  recall@10 {row['recall@10']['mean']:.4f}  target {row['target_ndcg@10']}")
    print(f"wrote {path} and BENCHMARKS.md ({wall / 60:.1f} min)")


if __name__ == "__main__":
    main()
