"""Semantic IDs at work on Amazon Beauty and Sports: generative retrieval on residual k-means, descriptor and
category IDs, and SASRec (full or sampled softmax, trained once or refit) with semantic-ID features, against plain
SASRec. Leave-one-out, full ranking.

    .venv/bin/python benchmarks/generative_retrieval.py --datasets amazon-beauty --variants gen-rkmeans --seeds 0
    .venv/bin/python benchmarks/generative_retrieval.py --variants gen-descriptors sasrec-ss+descriptors-refit

Descriptor IDs are read from runs/tagger-<dataset>, the run directory of configs/tagger-<dataset>.yaml (`agenticrec
tag build` and `tag assign` with that config); `--set semantic_ids.tagger_run=DIR` names another.

Besides the ranking metrics, every generative run reports its IDs' collision figures, the share of invalid
IDs among all decoded list entries, and beam-search time per user (batched, on this machine). Results
accumulate in benchmarks/results/<name>.json across invocations (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from common import machine, run_parallel, run_record, save, summary_key, update_section, with_earlier_runs
from sasrec_baselines import REFIT

ID_METHODS = ("rkmeans", "descriptors", "categories")


def _with_ids(method: str) -> list[str]:
    return ["model.semantic_id_features=true", f"semantic_ids.method={method}"]


# variant -> (the model preset in src/agenticrec/presets/models/, overrides on top of it)
VARIANTS = {
    **{f"gen-{m}": ("generative", [f"semantic_ids.method={m}"]) for m in ID_METHODS},
    "sasrec-ce": ("sasrec-ce", []),
    **{f"sasrec-ce+{m}": ("sasrec-ce", _with_ids(m)) for m in ID_METHODS},
    # refit on training + validation items for the early-stopped epoch count (holdout protocol); their plain
    # counterparts are sasrec-ce-refit and sasrec-ss-refit in sasrec_baselines.py
    **{
        f"sasrec-{loss}+{m}-refit": (f"sasrec-{loss}", [*_with_ids(m), REFIT])
        for loss in ("ce", "ss")
        for m in ID_METHODS
    },
}
# NDCG@10 (full ranking, leave-one-out): TIGER and AgenticTagger papers, Table 1; the "best model" bar.
TARGETS = {
    ("amazon-beauty", "gen-rkmeans"): 0.0384,
    ("amazon-sports", "gen-rkmeans"): 0.0225,
    ("amazon-beauty", "gen-descriptors"): 0.0408,
    ("amazon-sports", "gen-descriptors"): 0.0251,
}
BEST_MODEL_TARGET = {"amazon-beauty": 0.055, "amazon-sports": 0.033}
REPORTED = ["ndcg@10", "recall@10", "ndcg@20", "recall@20", "coverage@10", "exposure@10_tail"]
TIMED_USERS = 1024


def decoding_figures(run_dir: Path) -> dict[str, float]:
    """Invalid-ID share over every decoded list entry of the test users, and beam-search ms per user."""
    import numpy as np

    from agenticrec.pipeline import load_run

    run = load_run(run_dir)
    model = run.model
    test = run.split.stage("test")
    histories = test.histories[:TIMED_USERS]
    started = time.perf_counter()
    items, scores = model.recommend(histories)
    seconds = time.perf_counter() - started
    decoded = items[np.isfinite(scores)]
    return {
        "invalid_id_share": float(((decoded < 1) | (decoded > run.dataset.n_items)).mean()),
        "empty_slots": float((~np.isfinite(scores)).mean()),
        "beam_ms_per_user": 1000 * seconds / len(histories),
        "timed_users": len(histories),
    }


def run_one(
    dataset: str, variant: str, seed: int, runs_dir: Path, overrides: list[str], threads: int
) -> dict[str, Any]:
    import torch

    from agenticrec.pipeline import load_config, train_and_evaluate

    torch.set_num_threads(threads)
    generative = variant.startswith("gen-")
    run_dir = runs_dir / f"{dataset}-{variant}-seed{seed}"
    preset, extra = VARIANTS[variant]
    # descriptor IDs come from the dataset's tagger run (configs/tagger-<dataset>.yaml) unless --set names another
    tagger = [f"semantic_ids.tagger_run=runs/tagger-{dataset}"] if "semantic_ids.method=descriptors" in extra else []
    config = load_config(
        None, [*extra, *tagger, f"seed={seed}", *overrides, f"run_dir={run_dir}"], data=dataset, model=preset
    )
    result = train_and_evaluate(config)
    return {
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        **run_record(result),
        "decoding": decoding_figures(run_dir) if generative else None,
        "config": config.model_dump(mode="json", exclude={"llm", "tagger"}),
    }


def settings(config: dict[str, Any]) -> str:
    """The model size and training budget of a run, in a few words."""
    model, train = config["model"], config["train"]
    if model["name"] == "generative":
        size = (
            f"{model['num_layers']}+{model['num_layers']} layers, d {model['d_model']}, d_ff {model['d_ff']}, "
            f"{model['num_heads']}x{model['d_kv']} heads, {model['max_items']} items, "
            f"{model['examples_per_user'] or 'all'} examples/user, beam {model['beam']}"
        )
    else:
        size = (
            f"{model['num_layers']} block(s), hidden {model['hidden_size']}, dropout {model['dropout']}, "
            f"max_len {model['max_len']}"
        )
    refit = ", refit on train + valid" if train.get("refit") else ""
    return f"{size}; lr {train['lr']}, batch {train['batch_size']}, {train['max_minutes'] or 'no'} min budget{refit}"


def markdown(runs: list[dict[str, Any]]) -> str:
    info = machine()
    where = info.get("gpu") or f"{info['cpu']}, {info['cores_available']} cores"
    lines = [
        "## Generative retrieval and semantic-ID features",
        "",
        "Commands: " + ", ".join(f"`{c}`" for c in sorted({r["command"] for r in runs})) + "  ",
        f"Machine: {where}, torch {info.get('torch')}; last updated {time.strftime('%Y-%m-%d')}  ",
        "Protocol: leave-one-out (last item test, second-last validation), full ranking over all items, test "
        "metrics with history not masked (TIGER) and masked (the published SASRec figures), early stopping on "
        "validation NDCG@10 (not masked). Generative runs rank the beam only: items outside it count as misses, "
        "and masking drops history items from the beam's list after decoding. Model size and training budget per "
        "row (the papers' encoder-decoder: 4+4 layers, d_model 128, d_ff 1024, 6 heads of 64, dropout 0.1, AdamW, "
        "cosine schedule, batch 256).",
        "",
        "| dataset | variant | settings | seeds | NDCG@10 | target | NDCG@10 history masked | Recall@10 | NDCG@20 "
        "| coverage@10 | tail@10 | IDs: collision rate / largest bucket | invalid IDs | beam ms/user | best epoch "
        "| stopped by | train s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["variant"]), []).append(run)
    for (dataset, variant), group in groups.items():

        def cell(metric: str, protocol: str = "test", group: list[dict[str, Any]] = group) -> str:
            values = [r[protocol][metric] for r in group if r.get(protocol)]
            if not values:
                return "–"
            return f"{statistics.fmean(values):.4f}" + (f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else "")

        target = TARGETS.get((dataset, variant))
        mean = statistics.fmean(r["test"]["ndcg@10"] for r in group)
        verdict = "–" if target is None else f"{target} ({'met' if mean >= target else 'missed'})"
        ids = group[0]["train"].get("semantic_ids")
        id_cell = f"{ids['collision_rate']:.3f} / {ids['largest_bucket']}" if ids else "–"
        decoding = group[0]["decoding"]
        invalid = f"{decoding['invalid_id_share']:.1%}" if decoding else "–"
        beam_ms = f"{decoding['beam_ms_per_user']:.1f}" if decoding else "–"
        stopped = ", ".join(sorted({r["train"].get("stopped_by", "-") for r in group}))
        lines.append(
            f"| {dataset} | {variant} | {settings(group[0]['config'])} | {len(group)} | {cell('ndcg@10')} | "
            f"{verdict} | "
            f"{cell('ndcg@10', 'test_history_masked')} | {cell('recall@10')} | "
            f"{cell('ndcg@20')} | {cell('coverage@10')} | {cell('exposure@10_tail')} | {id_cell} | "
            f"{invalid} | {beam_ms} | {[r['train'].get('best_epoch') for r in group]} | {stopped} | "
            f"{statistics.fmean(r['train'].get('train_seconds', 0) for r in group):.0f} |"
        )
    lines.append("")
    for dataset in sorted({d for d, _ in groups}):
        for protocol, label in (("test", "history not masked"), ("test_history_masked", "history masked")):
            scored = [
                (statistics.fmean(r[protocol]["ndcg@10"] for r in g), v)
                for (d, v), g in groups.items()
                if d == dataset and all(r.get(protocol) for r in g)
            ]
            if not scored:
                continue
            value, variant = max(scored)
            bar = BEST_MODEL_TARGET.get(dataset)
            lines.append(
                f"Best on {dataset} ({label}): {variant}, NDCG@10 {value:.4f}"
                + (f" (target {bar}: {'met' if value >= bar else 'missed'})" if bar else "")
                + "  "
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["amazon-beauty", "amazon-sports"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides for every run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--name", default="generative_retrieval", help="results file and BENCHMARKS.md section")
    parser.add_argument("--fresh", action="store_true", help="drop runs kept from earlier invocations")
    parser.add_argument("--report-only", action="store_true", help="rewrite the table from the results file")
    args = parser.parse_args()

    jobs = (
        []
        if args.report_only
        else [
            (d, v, s, args.runs_dir, args.overrides) for d in args.datasets for v in args.variants for s in args.seeds
        ]
    )
    runs = with_earlier_runs(
        args.name, run_parallel(run_one, jobs, args.jobs), ("dataset", "variant", "seed"), args.fresh
    )
    protocol = {
        "split": "leave-one-out",
        "ranking": "full ranking; generative: beam list, outside = miss",
        "history_masked": "both (test and test_history_masked)",
    }
    if not args.report_only:  # the results file keeps the command that measured it
        save(
            args.name,
            [{k: r[k] for k in ("dataset", "variant", "seed")} | {m: r["test"][m] for m in REPORTED} for r in runs],
            protocol,
            summary=summary_of(runs),
            runs=runs,
        )
    update_section(args.name, markdown(runs))
    for r in runs:
        print(f"{r['dataset']:15s} {r['variant']:22s} seed {r['seed']} ndcg@10 {r['test']['ndcg@10']:.4f}")
    print("wrote BENCHMARKS.md" if args.report_only else f"wrote benchmarks/results/{args.name}.json and BENCHMARKS.md")


def summary_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Test NDCG@10 (history not masked, and masked) per dataset and variant, the mean over its seeds."""
    summary: dict[str, float] = {}
    for dataset, variant in dict.fromkeys((r["dataset"], r["variant"]) for r in runs):
        mine = [r for r in runs if (r["dataset"], r["variant"]) == (dataset, variant)]
        for protocol, suffix in (("test", ""), ("test_history_masked", "masked")):
            values = [r[protocol]["ndcg@10"] for r in mine if protocol in r]
            if values:
                summary[summary_key(dataset, variant, "ndcg10", suffix)] = sum(values) / len(values)
    return summary


if __name__ == "__main__":
    main()
