"""LaMAR's signal for every item: per dataset, the proposed attribute, the consistency filter's drop rate, the diversity
figures, the generation rate, and ten seeded sample values; beside it, what a model whose proposal was refused
produced. Reads finished `augment generate` runs (and recomputes `augment diversity` on them):

    .venv/bin/python benchmarks/lamar_signal.py \\
        --runs amazon-scientific=/work/agenticrec-runs/amazon-scientific-signal \\
               amazon-office=/work/agenticrec-runs/amazon-office-signal \\
        --refused amazon-office=/work/agenticrec-runs/amazon-office-signal-smollm2

Writes benchmarks/results/lamar_signal.json, the lamar_signal section of BENCHMARKS.md, and each run's signal table as
benchmarks/results/signal_<dataset>.parquet (item_id and the kept values, a few hundred KB), so that a text model or
the ranker takes the signal with `data.item_fields=[benchmarks/results/signal_scientific.parquet]` on any machine,
without hours of regeneration. The rate is items per
second of active wall time: gaps of more than a minute between two answers (the job paused or stopped between
sessions) are left out.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.augment import artifacts
from agenticrec.augment.config import SIGNAL_PROPOSER as PROPOSER
from agenticrec.augment.config import SIGNAL_WRITER as WRITER
from agenticrec.augment.diversity import run_diversity
from agenticrec.llm.config import LEDGER_FILE
from agenticrec.llm.ledger import Ledger
from agenticrec.pipeline import load_config
from common import RESULTS, command, save, update_section

SHORT = {"amazon-scientific": "scientific", "amazon-office": "office"}
PAUSE_S = 60.0
SAMPLES = 10


def active_seconds(stamps: list[float]) -> float:
    """Wall time covered by ``stamps`` (answer times), without gaps longer than ``PAUSE_S``."""
    gaps = np.diff(np.sort(stamps))
    return float(gaps[gaps <= PAUSE_S].sum())


def measure(dataset: str, run_dir: Path) -> dict[str, Any]:
    """One signal run's figures."""
    config = load_config(None, ["augment.words=20", f"run_dir={run_dir}"], data=dataset)  # the runs' settings
    items = config.data.load()
    folder = artifacts.augment_dir(run_dir)
    generation = json.loads((folder / artifacts.GENERATION).read_text())
    proposal = next(p for p in json.loads((folder / artifacts.PROPOSALS).read_text()) if p["kept"])
    diversity = run_diversity(items, config.augment, run_dir)
    writes = [r for r in Ledger(run_dir / LEDGER_FILE).records() if r.role == WRITER]
    values = pd.read_parquet(folder / artifacts.VALUES)
    kept = values[values["kept"]]
    rng = np.random.default_rng(0)
    titles = dict(zip(items.item_ids(), items.items[items.text_fields[0]].astype(str)))
    inside = [value.lower() in titles[item].lower() for item, value in zip(kept["item_id"], kept["value"])]
    samples = [
        {"item": titles[row.item_id][:70], "value": row.value}
        for row in kept.iloc[np.sort(rng.permutation(len(kept))[:SAMPLES])].itertuples()
    ]
    return {
        "model": writes[0].model if writes else None,
        "signal": proposal["name"],
        "definition": proposal["definition"],
        "generation": generation,
        "diversity": {k: v for k, v in diversity.items() if not isinstance(v, (dict, list))},
        "similarity_to_item_text": next(
            v for k, v in diversity.items() if k.startswith("similarity_to_") and k != "similarity_to_category_mean"
        ),  # the mean MiniLM cosine of each value to the item's first text field
        "distinct_values": int(kept["value"].str.lower().nunique()),
        "value_in_first_field_share": float(np.mean(inside)),  # the value is a verbatim span of the title (or text)
        "writer_calls": len(writes),
        "writer_tokens_in_mean": float(np.mean([r.tokens_in for r in writes])),
        "writer_tokens_out_mean": float(np.mean([r.tokens_out for r in writes])),
        "active_seconds": active_seconds([r.created_at for r in writes]),
        "samples": samples,
    }


def refused(dataset: str, run_dir: Path) -> dict[str, Any]:
    """What a refused proposer answered: each attempt's error and the start of its last answer."""
    calls = [r for r in Ledger(run_dir / LEDGER_FILE).records() if r.role == PROPOSER]
    if not calls:
        raise SystemExit(f"{run_dir} holds no {PROPOSER} call")
    return {
        "dataset": dataset,
        "model": calls[0].model,
        "status": [c.status for c in calls],
        "errors": [e[:240] for c in calls for e in c.errors],
        "last_answer": (calls[-1].response or "")[:400],
    }


def summary_of(datasets: dict[str, dict[str, Any]]) -> dict[str, float]:
    summary: dict[str, float] = {}
    for dataset, r in datasets.items():
        name = SHORT.get(dataset, dataset.replace("-", "_"))
        summary[f"{name}_signal_items"] = r["generation"]["items"]
        summary[f"{name}_signal_kept"] = r["generation"]["kept"]
        summary[f"{name}_signal_drop_rate"] = r["generation"]["signal_drop_rate"]
        summary[f"{name}_signal_items_per_s"] = r["writer_calls"] / r["active_seconds"]
        summary[f"{name}_signal_distinct_values"] = r["distinct_values"]
        summary[f"{name}_signal_words_mean"] = r["generation"]["words_mean"]
        summary[f"{name}_signal_value_in_first_field_share"] = r["value_in_first_field_share"]
        summary[f"{name}_signal_pairs_above_0_8"] = r["diversity"]["signal_pairs_above_0_8"]
        summary[f"{name}_signal_similarity_to_text"] = r["similarity_to_item_text"]
        summary[f"{name}_signal_similarity_to_category"] = r["diversity"].get("similarity_to_category_mean")
    first = SHORT.get(next(iter(datasets)), "")
    for key in ("signal_drop_rate", "signal_items_per_s"):
        summary[key] = summary[f"{first}_{key}"]
    return summary


def markdown(datasets: dict[str, dict[str, Any]], rejected: list[dict[str, Any]], summary: dict[str, float]) -> str:
    lines = [
        "## LaMAR's signal for every item",
        "",
        f"Command: `{command()}`  ",
        "Each run: `agenticrec augment propose` then `augment generate` (resumable from the ledger) with "
        "`--llm qwen-1.5b --set augment.words=20`; the rate counts answers per second of active wall time (pauses "
        "over a minute left out), on 2 cores shared with one other job.",
        "",
        "| dataset | signal (definition) | items | kept | drop rate | distinct values | words | value inside the "
        "first text field | pairs > 0.8 | similarity to first text field | to category | items/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, r in datasets.items():
        name, g = SHORT.get(dataset, dataset), r["generation"]
        lines.append(
            f"| {dataset} | {r['signal']} ({r['definition']}) | {g['items']} | {g['kept']} | "
            f"{g['signal_drop_rate']:.1%} (failed {g['failed_calls']}, inconsistent {g['dropped_inconsistent']}, "
            f"repetitive {g.get('dropped_repetitive', 0)}) | {r['distinct_values']} | {g['words_mean']:.1f} | "
            f"{r['value_in_first_field_share']:.1%} | "
            f"{r['diversity']['signal_pairs_above_0_8']:.1%} | {r['similarity_to_item_text']:.2f} | "
            f"{r['diversity'].get('similarity_to_category_mean', float('nan')):.2f} | "
            f"{summary[f'{name}_signal_items_per_s']:.2f} |"
        )
    for dataset, r in datasets.items():
        lines += ["", f"Ten seeded kept values, {dataset} (first text field → value):", ""]
        lines += [f'- {s["item"]} → "{s["value"]}"' for s in r["samples"]]
    for r in rejected:
        lines += [
            "",
            f"Refused proposal, {r['dataset']} with {r['model']}: {len(r['status'])} proposer call(s), "
            f"status {', '.join(r['status'])}. Errors: " + " | ".join(r["errors"]) + ".",
            f"Its last answer began: `{r['last_answer'][:300]}`",
        ]
    return "\n".join(lines)


def pairs(values: list[str]) -> dict[str, Path]:
    return {k: Path(v) for k, v in (value.split("=", 1) for value in values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="DATASET=RUN_DIR of a finished `augment generate`")
    parser.add_argument("--refused", nargs="*", default=[], help="DATASET=RUN_DIR whose proposal was refused")
    parser.add_argument("--name", default="lamar_signal", help="results file and BENCHMARKS.md section")
    args = parser.parse_args()
    datasets = {dataset: measure(dataset, run) for dataset, run in pairs(args.runs).items()}
    rejected = [refused(dataset, run) for dataset, run in pairs(args.refused).items()]
    summary = summary_of(datasets)
    protocol = {
        "llm": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M through the embedded engine (benchmarks only)",
        "samples": f"{SAMPLES} kept values per dataset, seeded (0)",
        "rate": f"writer answers per second of active wall time (gaps over {PAUSE_S:.0f} s left out)",
        "drop_rate": "values dropped by the consistency or repetition check, over the values generated (failed apart)",
    }
    for dataset, run in pairs(args.runs).items():
        shutil.copyfile(artifacts.augment_dir(run) / artifacts.SIGNAL, RESULTS / f"signal_{SHORT[dataset]}.parquet")
    save(args.name, {"datasets": datasets, "refused": rejected}, protocol, summary=summary)
    update_section(args.name, markdown(datasets, rejected, summary))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
