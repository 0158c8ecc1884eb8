"""LaMAR's models without the signal: the text-based recommender (textseq) at the paper size and at CPU sizes, and
SASRec-CE as the non-text reference, every run stopped by early stopping. Reads finished runs (their metrics.json)
from one or more folders, such as those `benchmarks/lamar_gpu.sh` trains on a GPU and `agenticrec train` runs on the
CPU; the table says on which machine each arm ran:

    .venv/bin/python benchmarks/lamar_models.py --runs /path/to/.gpu/runs /path/to/cpu/runs

Run directories are named DATASET-MODEL-sSEED, with DATASET `sci` (amazon-scientific) or `office` (amazon-office)
and MODEL `sasrec-ce` or `textseq-hHIDDENeEXPERTS` (`h300e8` is the paper size). Writes
benchmarks/results/lamar_models.json and the lamar_models section of BENCHMARKS.md. The summary's NDCG@10 is the
history-masked figure, the protocol of the lift target; `*_not_masked` beside it is RecBole's.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from common import command, save, update_section

DATASETS = {"sci": "scientific", "office": "office"}
PAPER = "textseq-h300e8"
SIGNAL = f"{PAPER}-signal"  # the paper size with the item text of fields + LaMAR's signal
TRANSFER = f"{PAPER}-transfer"  # the paper size fine-tuned from a run on other datasets (`train.init_from`)
RUN = re.compile(r"^(?P<data>sci|office)-(?P<model>sasrec-ce|textseq-h\d+e\d+(?:-signal|-transfer)?)-s(?P<seed>\d+)$")


def machine_label(machine: dict[str, Any]) -> str:
    """The GPU's name, or the CPU with the threads torch used."""
    return machine.get("gpu") or f"CPU, {machine['torch_threads']} thread(s)"


def read_runs(folders: list[Path]) -> list[dict[str, Any]]:
    """One record per finished run in ``folders``: its dataset, model, seed, both test protocols and training."""
    runs = []
    for path in sorted(p for folder in folders for p in folder.glob("*/metrics.json")):
        match = RUN.match(path.parent.name)
        if not match:
            continue
        metrics = json.loads(path.read_text())
        runs.append({
            "run": path.parent.name, "dataset": DATASETS[match["data"]], "model": match["model"],
            "seed": int(match["seed"]), "masked": metrics["test_history_masked"]["ndcg@10"],
            "not_masked": metrics["test"]["ndcg@10"], "recall10_masked": metrics["test_history_masked"]["recall@10"],
            "train": metrics["train"], "finished": metrics["finished"], "machine": metrics["machine"],
            "machine_label": machine_label(metrics["machine"]),
            "protocol": metrics["protocol"],
        })  # fmt: skip
    return runs


Arm = tuple[str, str, str]  # dataset, model, machine label


def arms(runs: list[dict[str, Any]]) -> dict[Arm, dict[str, Any]]:
    """(dataset, model, machine) -> mean and std over seeds of each protocol, best and run epochs, and how each
    stopped."""
    grouped: dict[Arm, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault((run["dataset"], run["model"], run["machine_label"]), []).append(run)
    out = {}
    for key, group in grouped.items():
        out[key] = {
            "seeds": [r["seed"] for r in group],
            "masked_by_seed": {r["seed"]: r["masked"] for r in group},
            **{f"{p}_{stat}": float(f([r[p] for r in group])) for p in ("masked", "not_masked")
               for stat, f in (("mean", np.mean), ("std", np.std))},
            "best_epochs": [r["train"]["best_epoch"] for r in group],
            "epochs_run": [r["train"]["epochs_run"] for r in group],
            "stopped_by": sorted({r["train"]["stopped_by"] for r in group}),
            "train_seconds_mean": float(np.mean([r["train"]["train_seconds"] for r in group])),
            "finished": max(r["finished"] for r in group),
        }  # fmt: skip
    return out


def headline(table: dict[Arm, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(dataset, model) -> the summary's arm: the machine with the most seeds, then the latest runs."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    by_seeds_then_date = sorted(table.items(), key=lambda kv: (len(kv[1]["seeds"]), kv[1]["finished"]))
    for (dataset, model, machine), arm in by_seeds_then_date:
        out[(dataset, model)] = {**arm, "machine": machine}
    return out


def paired_lifts(full: dict[Arm, dict[str, Any]]) -> dict[str, float]:
    """The signal's lift measured on one machine over the seeds both arms ran there (so that no difference between
    machines enters it): ``{dataset}_signal_lift_paired_{cpu|gpu}``."""
    out = {}
    for (dataset, model, machine), signal in full.items():
        fields = full.get((dataset, PAPER, machine))
        if model != SIGNAL or fields is None:
            continue
        seeds = sorted(set(signal["masked_by_seed"]) & set(fields["masked_by_seed"]))
        if seeds:
            ratio = np.mean([signal["masked_by_seed"][s] for s in seeds]) / np.mean(
                [fields["masked_by_seed"][s] for s in seeds]
            )
            out[f"{dataset}_signal_lift_paired_{'cpu' if machine.startswith('CPU') else 'gpu'}"] = float(ratio - 1)
            out[f"{dataset}_signal_lift_paired_{'cpu' if machine.startswith('CPU') else 'gpu'}_seeds"] = len(seeds)
    return out


def summary_of(full: dict[Arm, dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    table = headline(full)
    for (dataset, model), arm in table.items():
        name = {PAPER: "fields", SIGNAL: "signal", TRANSFER: "transfer"}.get(model, model.replace("-", "_"))
        key = f"{dataset}_ndcg10_{name}"
        summary[key], summary[f"{key}_std"] = arm["masked_mean"], arm["masked_std"]
        summary[f"{key}_not_masked"] = arm["not_masked_mean"]
        if model.startswith("textseq") and model not in (PAPER, SIGNAL, TRANSFER) and (dataset, PAPER) in table:
            summary[f"{dataset}_{name}_cost"] = 1 - arm["masked_mean"] / table[(dataset, PAPER)]["masked_mean"]
    for dataset in DATASETS.values():
        for arm, key in ((SIGNAL, "signal_lift"), (TRANSFER, "transfer_over_scratch")):
            if (dataset, PAPER) in table and (dataset, arm) in table:
                summary[f"{dataset}_{key}"] = (
                    table[(dataset, arm)]["masked_mean"] / table[(dataset, PAPER)]["masked_mean"] - 1
                )
        if (dataset, PAPER) in table and (dataset, "sasrec-ce") in table:
            ratio = table[(dataset, PAPER)]["masked_mean"] / table[(dataset, "sasrec-ce")]["masked_mean"]
            summary[f"{dataset}_textseq_over_sasrec_ce"] = ratio - 1
    summary |= paired_lifts(full)
    if ("scientific", PAPER) in table:
        summary["textseq_epochs_to_converge"] = float(np.mean(table[("scientific", PAPER)]["best_epochs"]))
    return summary


def markdown(table: dict[Arm, dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    machines = {r["machine_label"]: r["machine"] for r in runs}
    described = (
        f"{label} (torch {m['torch']}, Python {m['python']}, {m['cores_available']} cores)"
        for label, m in sorted(machines.items())
    )
    lines = [
        "## LaMAR's models, converged: textseq sizes, SASRec-CE, and textseq with the LLM signal",
        "",
        "Commands: `bash ../shared/gpu/prepare.sh amazon-scientific:textseq:sci-base "
        "amazon-office:textseq:office-base`, "
        "`bash .gpu/lamar_gpu.sh` on the GPU machine (`benchmarks/lamar_gpu.sh` copied into `.gpu/`, 17 runs at once); "
        "for the signal arm `.venv/bin/python benchmarks/lamar_gpu_signal.py amazon-office "
        "/work/agenticrec-runs/amazon-office-signal office-signal-base` and `bash .gpu/lamar_gpu.sh signal`; "
        "for an arm on the CPU `agenticrec train --data DATASET --model textseq --set seed=S --set train.threads=1` "
        "(with the same item_fields and text_fields overrides for the signal arm); "
        f"then `{command()}`  ",
        f"Machines: {'; '.join(described)}; runs finished {max(r['finished'] for r in runs)[:10]}  ",
        f"Protocol: {runs[0]['protocol']['split']}; {runs[0]['protocol']['ranking']}; CE loss (full softmax).",
        "",
        "Item text = the dataset's fields (title, brand, category; Office: its one text field), the `fields` arm of "
        "the lift; `-signal` adds the LLM-generated attribute as a key-value field. "
        "NDCG@10 mean ± std over the seeds, history masked (not masked in brackets). Every run stopped by early "
        "stopping on validation NDCG@10 (patience 10, no time budget).",
        "",
        "| dataset | model | machine | seeds | NDCG@10 masked (not masked) | best epochs | epochs run | stopped by "
        "| train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, model, machine), arm in sorted(table.items()):
        label = f"{model} (paper size)" if model == PAPER else model
        lines.append(
            f"| {dataset} | {label} | {machine} | {len(arm['seeds'])} | "
            f"{arm['masked_mean']:.4f} ± {arm['masked_std']:.4f} "
            f"({arm['not_masked_mean']:.4f}) | {arm['best_epochs']} | {arm['epochs_run']} | "
            f"{', '.join(arm['stopped_by'])} | {arm['train_seconds_mean']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, nargs="+", required=True, help="folders of finished run directories")
    parser.add_argument("--name", default="lamar_models", help="results file and BENCHMARKS.md section")
    args = parser.parse_args()
    runs = read_runs(args.runs)
    if not runs:
        raise SystemExit(f"no run directories named DATASET-MODEL-sSEED with a metrics.json under {args.runs}")
    table = arms(runs)
    summary = summary_of(table)
    protocol = {
        "split": runs[0]["protocol"]["split"],
        "ranking": runs[0]["protocol"]["ranking"],
        "loss": "ce (full softmax) for both models",
        "item_text": "the dataset's fields (title, brand, category); *-signal arms add the LLM signal as a field",
        "summary_arm": "per dataset and model, the machine with the most seeds, then the latest runs; the table in "
        "BENCHMARKS.md gives every machine's arm",
        "stopping": "early stopping on validation NDCG@10, patience 10, no time budget",
        "summary_ndcg": "test, history masked; *_not_masked: history not masked",
    }
    rows = [{k: v for k, v in run.items() if k != "protocol"} for run in runs]
    save(args.name, rows, protocol, summary=summary)
    update_section(args.name, markdown(table, runs))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
