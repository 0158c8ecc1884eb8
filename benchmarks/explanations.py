"""RecGPT explanations, measured on the Beauty intent run: the offline (interest, item, explanation) table for the items
closest to each mined interest, the judge's pass rates on a sample, the share naming an attribute the item text lacks,
and the request-time lookup's latency.

    .venv/bin/python benchmarks/explanations.py --llm qwen-1.5b --judge-pairs 200 \
        --runs grounded=RUN similarity=RUN_SIMILARITY --set llm.backends.qwen15.n_threads=1

Each run is an intent run with mined interests (`agenticrec intent compress` and `mine`; default
runs/intent-amazon-beauty-<model>, benchmarks/intent.py) explained in one `intent.explain_mode` (grounded: the LLM
picks one of the item's own phrases; similarity: the closest phrase, no LLM; free: written notes); the first is the
headline, the others are compared with it on the same judge, raw and calibrated on the labelled cases of
--calibration-run (`judge run`; default the first run). A re-run replays finished calls from the ledger.
Writes benchmarks/results/explanations.json and the BENCHMARKS.md section "explanations".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.intent import artifacts
from agenticrec.intent.explanations import ExplanationLookup, run_explain, run_explain_judge
from agenticrec.intent.judging import calibrated_judges
from agenticrec.llm import LLMClient
from agenticrec.pipeline import load_config
from common import command, machine, save, update_section

MODEL_TAGS = {None: "smollm2", "qwen-1.5b": "qwen15"}
LOOKUPS = 20_000


def lookup_ms(run_dir: Path, seed: int) -> float:
    """Mean time of one (user, item) lookup over seeded pairs of sampled users and explained items."""
    lookup = ExplanationLookup.load(run_dir)
    table = artifacts.read_table(run_dir, artifacts.EXPLANATIONS)
    rng = np.random.default_rng(seed)
    users = rng.choice(sorted(lookup.user_interests), LOOKUPS)
    items = rng.choice(table["item"].to_numpy(), LOOKUPS)
    started = time.perf_counter()
    for user, item in zip(users, items):
        lookup.explain(user, item)
    return (time.perf_counter() - started) * 1000 / LOOKUPS


def explain(
    mode: str, run_dir: Path, calibration_run: Path, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Explain and judge one run in one mode: the judge's figures, the LLM usage and the run's config."""
    overrides = [f"run_dir={run_dir}", "seed=0", f"intent.explain_judge_pairs={args.judge_pairs}",
                 f"intent.explain_mode={mode}", *args.overrides]  # fmt: skip
    config = load_config(None, overrides, data="amazon-beauty", llm=args.llm)
    dataset = config.data.load()
    calibrated = calibrated_judges(calibration_run, config.seed)
    with LLMClient(config.llm, run_dir) as client:
        run_explain(dataset, config.intent, client, run_dir, config.seed)
        result = run_explain_judge(dataset, config.intent, config.judge, client, run_dir, config.seed, calibrated)
        calls = client.usage.as_dict()
    result["lookup_ms"] = lookup_ms(run_dir, config.seed)
    return result, calls, config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default=None, help="LLM preset (qwen-1.5b); default: the embedded SmolLM2")
    parser.add_argument("--judge-pairs", type=int, default=300)
    parser.add_argument("--runs", nargs="*", default=[], metavar="MODE=RUN", help="explain mode and intent run")
    parser.add_argument("--calibration-run", type=Path, help="the run whose judged cases calibrate the judge")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[])
    args = parser.parse_args()
    model = MODEL_TAGS[args.llm]
    runs = {mode: Path(run) for mode, _, run in (r.partition("=") for r in args.runs)}
    runs = runs or {"grounded": Path(f"runs/intent-amazon-beauty-{model}")}
    started = time.perf_counter()
    calibration_run = args.calibration_run or next(iter(runs.values()))
    results = {mode: explain(mode, run_dir, calibration_run, args) for mode, run_dir in runs.items()}
    headline, (result, calls, config) = next(iter(runs)), next(iter(results.values()))
    run_dir = runs[headline]
    table = artifacts.read_table(run_dir, artifacts.EXPLANATIONS)
    examples = table.sample(min(8, len(table)), random_state=0)[
        ["interest", "item", "explanation", "absent_attributes"]
    ]
    summary = {
        "relevance_pass": result["relevant_pass"],
        "absent_attribute_rate": result["absent_attribute_rate"],
        "absent_attribute_rate_first_draft": result["absent_attribute_rate_first_draft"],
        "revised": result["revised"],
        "withheld": result["withheld"],
        "absent_attribute_rate_judge": result["absent_attribute_rate_judge"],
        "factual_pass": result["factual_pass"],
        "concise_pass": result["concise_pass"],
        "pick_is_closest_share": result.get("pick_is_closest_share"),
        "relevant_pass_calibrated": result.get("relevant_pass_calibrated"),
        "lookup_ms": result["lookup_ms"],
        "pairs_explained": result["explained"],
        "pairs_judged": result["judged_pairs"],
        "words_mean": result["words_mean"],
    }
    for mode, (other, _, _) in list(results.items())[1:]:
        keys = ("relevant_pass", "relevant_pass_calibrated", "factual_pass", "absent_attribute_rate")
        summary |= {f"{key}_{mode}": other.get(key) for key in keys}
    summary["wall_minutes"] = (time.perf_counter() - started) / 60
    protocol = {
        "data": f"Amazon Beauty, the mined interests of {run_dir}; explain modes: "
        + ", ".join(f"{mode} ({path})" for mode, path in runs.items()),
        "pairs": f"per distinct interest, the {config.intent.explain_items} items whose MiniLM text embedding is "
        "closest to the interest name, its evidence left out",
        "judge": f"{model}, option scoring, {result['judged_pairs']} seeded pairs per criterion",
        "absent_attribute_rate": result["absent_attribute_check"],
        "lookup": f"mean of {LOOKUPS} (sampled user, explained item) lookups, one process, no LLM or encoder call",
    }
    examples_rows = json.loads(examples.to_json(orient="records"))
    save("explanations", {mode: r for mode, (r, _, _) in results.items()}, protocol, summary=summary,
         llm_calls=calls, examples=examples_rows)  # fmt: skip
    info = machine()
    lines = [
        "## Explanations (RecGPT §2.4)",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}  ",
        f"Protocol: {protocol['data']}; pairs: {protocol['pairs']}; judge: {protocol['judge']}; absent attributes: "
        f"{protocol['absent_attribute_rate']}; lookup: {protocol['lookup']}.",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in summary.items()],
        "",
        "| interest | item | explanation | absent attributes |",
        "|---|---|---|---|",
        *[
            f"| {r['interest']} | {r['item']} | {r['explanation']} | {', '.join(r['absent_attributes'])} |"
            for r in examples_rows
        ],
    ]
    update_section("explanations", "\n".join(lines))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
