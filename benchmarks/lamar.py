"""LaMAR end to end: an LLM-proposed item signal generated for every item, its diversity, the text-based sequential
recommender with the item fields alone and with the signal (several seeds), and the LLM ranker of LaMAR §4.4 with and
without the signal beside random, popularity, SASRec-CE and the text-based model on the same candidate sets.

    .venv/bin/python benchmarks/lamar.py --llm qwen-1.5b --datasets amazon-scientific amazon-office --seeds 0 1 2 \\
        --set train.threads=1 --llm-set llm.backends.qwen15.grammar=false

Per dataset: `augment propose` and `augment generate` (resumable: finished calls replay from the ledger), `augment
diversity`, then textseq trained with `data.text_fields` alone and plus the signal, each seed. On the first dataset
the LLM ranker (`--ranker-users` seeded test users) ranks with both item texts. Leave-one-out, full ranking; the
summary's NDCG@10 is the history-not-masked figure (RecBole's protocol for sequential models, the one of the
published UniSRec and RecFormer figures), the masked one beside it. Writes benchmarks/results/<name>.json (default
lamar) and the <name> section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.augment import artifacts
from agenticrec.augment.diversity import run_diversity
from agenticrec.augment.generate import run_generate
from agenticrec.augment.propose import run_propose
from agenticrec.augment.ranker import run_rank_llm
from agenticrec.config import save_config
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, load_config
from common import command, machine, save, train_or_reuse, update_section

SHORT = {"amazon-scientific": "scientific", "amazon-office": "office", "amazon-beauty": "beauty"}


def signal(dataset: str, args: argparse.Namespace) -> tuple[RunConfig, dict[str, Any], dict[str, Any]]:
    """Propose and generate the signal for every item, and measure its diversity; the signal run's config, the
    generation summary and the diversity figures."""
    config = load_config(None, [*args.llm_overrides, f"run_dir={args.runs_dir / f'{dataset}-signal'}"], data=dataset,
                         llm=args.llm)  # fmt: skip
    items = config.data.load()
    save_config(config, config.run_dir)
    with LLMClient(config.llm, config.run_dir) as client:
        run_propose(items, config.augment, client, config.run_dir, config.seed)
        generation = run_generate(items, config.augment, client, config.run_dir, config.seed)
    return config, generation, run_diversity(items, config.augment, config.run_dir)


def text_fields(config: RunConfig, generation: dict[str, Any]) -> dict[str, list[str]]:
    """The overrides of the two item texts: the dataset's fields, and the fields plus the signal's column."""
    fields = config.data.load().text_fields
    table = artifacts.augment_dir(config.run_dir) / artifacts.SIGNAL
    return {
        "fields": [f"data.text_fields=[{','.join(fields)}]"],
        "signal": [f"data.item_fields=[{table}]", f"data.text_fields=[{','.join([*fields, generation['column']])}]"],
    }


def textseq_runs(
    dataset: str, texts: dict[str, list[str]], args: argparse.Namespace
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for variant, overrides in texts.items():
        for seed in args.seeds:
            run_dir = args.runs_dir / f"{dataset}-textseq-{variant}-seed{seed}"
            settings = [f"seed={seed}", *overrides, *args.overrides]
            out.setdefault(variant, []).append(train_or_reuse(run_dir, settings, True, data=dataset, model="textseq"))
    return out


def ranker(dataset: str, texts: dict[str, list[str]], baselines: dict[str, Path], args: argparse.Namespace) -> dict:
    """The LLM ranker with each item text, on the same seeded candidate sets, beside the baselines."""
    out = {}
    for variant, overrides in texts.items():
        config = load_config(None, [*overrides, *args.llm_overrides, f"augment.ranker.users={args.ranker_users}",
                                    f"run_dir={args.runs_dir / f'{dataset}-ranker-{variant}'}"],
                             data=dataset, llm=args.llm)  # fmt: skip
        items = config.data.load()
        save_config(config, config.run_dir)
        with LLMClient(config.llm, config.run_dir) as client:
            out[variant] = run_rank_llm(items, config.augment.ranker, client, config.run_dir, config.seed, baselines)
    return out


def mean_std(runs: list[dict[str, Any]], protocol: str, metric: str = "ndcg@10") -> tuple[float, float]:
    values = [r[protocol][metric] for r in runs]
    return float(np.mean(values)), float(np.std(values))


def summary_of(results: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for dataset, r in results["datasets"].items():
        name = SHORT.get(dataset, dataset.replace("-", "_"))
        for variant, runs in r["textseq"].items():
            masked = "test_history_masked" if "test_history_masked" in runs[0] else "test"
            not_masked = "test" if masked == "test_history_masked" else "test_history_not_masked"
            summary[f"{name}_ndcg10_{variant}"], summary[f"{name}_ndcg10_{variant}_std"] = mean_std(runs, not_masked)
            summary[f"{name}_ndcg10_{variant}_masked"] = mean_std(runs, masked)[0]
        summary[f"{name}_signal_drop_rate"] = r["generation"]["signal_drop_rate"]
        summary[f"{name}_signal_pairs_above_0_8"] = r["diversity"]["signal_pairs_above_0_8"]
    first = SHORT.get(next(iter(results["datasets"])), "")
    summary["signal_pairs_above_0_8"] = summary.get(f"{first}_signal_pairs_above_0_8")
    summary["signal_drop_rate"] = summary.get(f"{first}_signal_drop_rate")
    if "ranker" in results:
        methods = {variant: r["methods"] for variant, r in results["ranker"].items()}
        summary["ranker_ndcg10_fields"] = methods["fields"]["llm"]["ndcg@10"]
        summary["ranker_ndcg10_signal"] = methods["signal"]["llm"]["ndcg@10"]
        for baseline, figures in methods["fields"].items():
            if baseline != "llm":
                summary[f"ranker_ndcg10_{baseline.replace('-', '_')}"] = figures["ndcg@10"]
    return summary


def markdown(results: dict[str, Any], summary: dict[str, Any], args: argparse.Namespace) -> str:
    info = machine()
    lines = [
        f"## LaMAR item signals ({args.llm or 'the embedded SmolLM2-135M'})",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}  ",
        f"Protocol: leave-one-out, full ranking; textseq seeds {args.seeds}, NDCG@10 with the history not masked "
        "(masked in brackets). The signal: `augment propose` (few-shot, step by step) and `augment generate` for "
        "every item, values that contradict the item text dropped (the drop rate below).",
        "",
        "| dataset | signal | dropped | pairs > 0.8 | textseq fields | textseq fields + signal |",
        "|---|---|---|---|---|---|",
    ]
    for dataset, r in results["datasets"].items():
        name = SHORT.get(dataset, dataset.replace("-", "_"))
        cells = [
            f"{summary[f'{name}_ndcg10_{v}']:.4f} ± {summary[f'{name}_ndcg10_{v}_std']:.4f} "
            f"({summary[f'{name}_ndcg10_{v}_masked']:.4f})"
            for v in ("fields", "signal")
        ]
        lines.append(f"| {dataset} | {r['generation']['signal']} | {r['generation']['signal_drop_rate']:.1%} | "
                     f"{r['diversity']['signal_pairs_above_0_8']:.1%} | {' | '.join(cells)} |")  # fmt: skip
    if "ranker" in results:
        fields, with_signal = (results["ranker"][v] for v in ("fields", "signal"))
        lines += [
            "",
            f"LLM ranker ({fields['protocol']['users']} seeded test users, {fields['protocol']['mode']} mode, "
            f"{fields['protocol']['candidates']}):",
            "",
            "| method | NDCG@10 | Recall@10 | MRR |",
            "|---|---|---|---|",
        ]
        rows = [("llm, fields + signal", with_signal["methods"]["llm"])]
        rows += [(f"{m}, fields" if m == "llm" else m, f) for m, f in fields["methods"].items()]
        for label, figures in rows:
            lines.append(f"| {label} | {figures['ndcg@10']:.4f} | {figures['recall@10']:.4f} | {figures['mrr']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["amazon-scientific", "amazon-office"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--llm", default=None, help="LLM preset of the signal and the ranker (default: the embedded one)"
    )
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="overrides of every textseq run")
    parser.add_argument("--llm-set", dest="llm_overrides", nargs="*", default=[], help="overrides of the LLM stages")
    parser.add_argument("--ranker-users", type=int, default=1000, help="0 skips the LLM ranker")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks-lamar"))
    parser.add_argument("--name", default="lamar", help="results file and BENCHMARKS.md section")
    args = parser.parse_args()
    results: dict[str, Any] = {"datasets": {}}
    for dataset in args.datasets:
        config, generation, diversity = signal(dataset, args)
        texts = text_fields(config, generation)
        runs = textseq_runs(dataset, texts, args)
        results["datasets"][dataset] = {"generation": generation, "diversity": diversity, "textseq": runs}
        if args.ranker_users and dataset == args.datasets[0]:
            sasrec = train_or_reuse(args.runs_dir / f"{dataset}-sasrec-ce-seed0", ["seed=0", *args.overrides], True,
                                    data=dataset, model="sasrec-ce")  # fmt: skip
            baselines = {"sasrec-ce": Path(sasrec["run_dir"]), "textseq": Path(runs["fields"][0]["run_dir"])}
            results["ranker"] = ranker(dataset, texts, baselines, args)
    summary = summary_of(results)
    protocol = {
        "split": "leave-one-out, full ranking",
        "seeds": args.seeds,
        "llm": args.llm or "embedded default (SmolLM2-135M)",
        "summary_ndcg": "history not masked; *_masked: history masked",
        "ranker": f"{args.ranker_users} seeded test users, 5 history items, 20 random candidates + the next item",
    }
    save(args.name, results, protocol, summary=summary)
    update_section(args.name, markdown(results, summary, args))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
