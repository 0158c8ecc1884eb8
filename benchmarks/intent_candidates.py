"""RecGPT's tags by candidate scoring on Beauty and Office 2014: the plain category baselines, each part of the
hybrid alone, and the hybrid fitted on the validation cut-off with and without the LLM's score.

    .venv/bin/python benchmarks/intent_candidates.py --users 600                      # priors only, minutes
    .venv/bin/python benchmarks/intent_candidates.py --users 600 --llm qwen-1.5b --set llm.backends.qwen15.n_threads=1

Per dataset the run lives in RUNS/intent-candidates-<dataset> (default RUNS: runs/): `intent compress` (token counts
of the LLM's tokenizer), with --llm `intent score` (resumable: finished calls replay from the ledger), then `intent
hybrid`. Writes benchmarks/results/intent_candidates.json and the section intent_candidates of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from agenticrec.intent import artifacts
from agenticrec.intent.candidates import SIMULATED_P, run_hybrid, run_score
from agenticrec.intent.stage import run_compress
from agenticrec.pipeline import load_config, stage_run
from common import RESULTS, command, machine, save, update_section

DATASETS = {"amazon-beauty": "", "amazon-office": "_office"}
METHODS = ("popular", "recent", "transition", "part_similarity", "part_llm", "hybrid_without_llm", "hybrid")


def run(dataset: str, args: argparse.Namespace) -> dict[str, Any]:
    overrides = [f"intent.users={args.users}", "llm.progress=false", *args.overrides,
                 f"run_dir={args.runs / f'intent-candidates-{dataset}'}"]  # fmt: skip
    config = load_config(None, overrides, data=dataset, llm=args.llm)
    with stage_run(config, "intent compress") as stage:
        run_compress(stage.dataset, config.intent, stage.llm, config.run_dir, config.seed)
    if args.llm:
        with stage_run(config, "intent score") as stage:
            run_score(stage.dataset, config.intent, stage.llm, config.run_dir, config.seed)
    with stage_run(config, "intent hybrid") as stage:
        result = run_hybrid(stage.dataset, config.intent, config.run_dir, config.seed)
    result |= {"llm": args.llm, "command": command()}
    shutil.copyfile(artifacts.intent_dir(config.run_dir) / artifacts.SIMULATED_PLOT, RESULTS / plot_name(dataset))
    return result


def plot_name(dataset: str) -> str:
    """The results file of a dataset's curve of the hybrid's HR@K against a simulated LLM's accuracy."""
    return f"intent_candidates_simulated_{dataset}.png"


def summary_of(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for dataset, suffix in DATASETS.items():
        if dataset not in results:
            continue
        figures = results[dataset]["summary"]
        summary |= {f"{key}{suffix}": value for key, value in figures.items()}
        summary[f"hr30_best_baseline{suffix}"] = max(figures[f"hr30_{m}"] for m in ("popular", "recent", "transition"))
    return summary


def markdown(results: dict[str, dict[str, Any]]) -> str:
    info = machine()
    lines = [
        "## RecGPT tags by candidate scoring",
        "",
        *(f"Command ({dataset}): `{result['command']}`  " for dataset, result in results.items()),
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}",
        "",
        "Protocol: a seeded sample of test users; the hybrid (standardised features, logistic regression) is fitted "
        "on each user's validation cut-off (target: the second-last item's category) and reported on the test "
        "cut-off (the last item's). Candidates: the prior's top `intent.candidates` per user (own categories, "
        "transitions, popular); `popular`, `recent`, `transition` are the plain baselines of `intent evaluate` over "
        "all categories; `part_*` ranks the candidates by one feature alone.",
        "",
        "| dataset | LLM score | users | target among candidates | method | HR@10 | HR@30 |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset, result in results.items():
        s = result["summary"]
        for method in METHODS:
            if f"hr30_{method}" in s:
                lines.append(f"| {dataset} | {result.get('llm') or 'none'} | {s['users_evaluated']} | "
                             f"{s['candidate_recall']:.1%} | {method} | "
                             f"{s[f'hr10_{method}']:.4f} | {s[f'hr30_{method}']:.4f} |")  # fmt: skip
    lines += [
        "",
        "The hybrid with a simulated LLM of accuracy p (the target with probability p, else one of the 5 best wrong "
        "candidates of the no-LLM hybrid), HR@10 / HR@30:",
        "",
        "| dataset | " + " | ".join(f"p = {p}" for p in SIMULATED_P) + " | smallest p adding 2 points HR@30 |",
        "|---|" + "---|" * (len(SIMULATED_P) + 1),
    ]
    for dataset, result in results.items():
        curve = [f"{result['simulated'][str(p)]['hr10']:.3f} / {result['simulated'][str(p)]['hr30']:.3f}"
                 for p in SIMULATED_P]  # fmt: skip
        lines.append(f"| {dataset} | {' | '.join(curve)} | {result['summary'].get('simulated_p_to_beat_baseline')} |")
    lines += ["", *(f"![{d}](benchmarks/results/{plot_name(d)})" for d in results), ""]
    lines += [
        "Hybrid weights (standardised features): " + json.dumps({d: r["weights"] for d, r in results.items()}),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=600, help="seeded test users per dataset")
    parser.add_argument("--llm", default=None, help="LLM preset whose score joins the hybrid (e.g. qwen-1.5b)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where the run directories live")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides of every run")
    args = parser.parse_args()
    previous = RESULTS / "intent_candidates.json"  # the datasets not run this time keep their figures
    results = json.loads(previous.read_text())["metrics"] if previous.exists() else {}
    results |= {dataset: run(dataset, args) for dataset in args.datasets}
    protocol = {name: result["protocol"] for name, result in results.items()}
    save("intent_candidates", results, protocol, summary=summary_of(results))
    update_section("intent_candidates", markdown(results))
    print(json.dumps(summary_of(results), indent=2))


if __name__ == "__main__":
    main()
