"""RecGPT's tri-tower retrieval (TAR) against the two-tower model on the same split: full ranking, leave-one-out,
history masked; beta (user-item vs tag-item weight) swept on validation, and the long-tail effect of the tag path.

    .venv/bin/python benchmarks/tar.py --datasets amazon-beauty --set train.max_minutes=20 train.threads=1

With ``--predicted-tags amazon-beauty=RUN`` TAR also takes the predicted categories of an `intent hybrid` run as its
tags (RecGPT part 1 into part 2), on that run's users, beside its own tags and the two-tower model.

Per dataset: the two-tower model (TAR's towers trained with L_col only, scored at beta = 1) and TAR (category tags,
beta chosen on validation NDCG@10). For TAR every beta of the grid is also evaluated on test users to draw
beta against NDCG@10 and tail exposure (on a seeded sample of test users); the headline figures, on every test user,
use betas chosen on validation only: the best one, and
the "tail" beta, the one with the most validation tail exposure among those within 5% of the best validation NDCG@10.
SASRec-CE and popularity come from benchmarks/results/sasrec_baselines.json (same data, split and protocol).
Writes benchmarks/results/<name>.json (default tar), <name>_beta_<dataset>.png and the <name> section of
BENCHMARKS.md; a variant (e.g. popularity-sampled negatives with the log-Q correction) gets its own name:

    .venv/bin/python benchmarks/tar.py --name tar_popularity --runs-dir runs/benchmarks-tar-popularity \
        --set model.negative_sampling=popularity train.max_minutes=20 train.threads=1

With ``--seeds 0 1 2`` every figure is the mean (± std) over seeds; ``--reuse`` reads back the seeds already run.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any

from common import RESULTS, machine, save, train_or_reuse, update_section

MODELS = {"two-tower": "two-tower", "tar": "tar"}
PROTOCOL_OVERRIDES = ["evaluate.mask_history=true", "evaluate.ks=[10,20,50]"]
NEAR_BEST = 0.95  # the tail beta keeps at least this share of the best validation NDCG@10


def train(dataset: str, model: str, seed: int, runs_dir: Path, overrides: list[str], reuse: bool) -> dict[str, Any]:
    """Train and evaluate one run, or with ``reuse`` read back a finished one."""
    run_dir = runs_dir / f"{dataset}-{model}-seed{seed}"
    record = train_or_reuse(
        run_dir, [f"seed={seed}", *PROTOCOL_OVERRIDES, *overrides], reuse, data=dataset, model=model
    )
    return {"dataset": dataset, "model": model, "seed": seed, **record}


def test_metrics(run: Any, beta: float, users: int | None = None) -> dict[str, float]:
    """NDCG@10 and top-10 tail exposure of a loaded TAR run at ``beta`` on its test users (a seeded sample of
    ``users``, or all of them)."""
    from agenticrec.evaluate import evaluate_ranking

    metrics = evaluate_ranking(
        functools.partial(run.model.fused_scores, beta=beta),
        run.split.stage("test").sample(users),
        run.counts,
        ks=[10],
        mask_history=run.config.evaluate.mask_history,
        batch_size=run.config.evaluate.batch_size,
    )
    return {"beta": beta, "ndcg@10": metrics["ndcg@10"], "exposure@10_tail": metrics["exposure@10_tail"]}


def tail_beta(valid_sweep: list[dict[str, float]]) -> float:
    """The beta with the most validation tail exposure among those within 5% of the best validation NDCG@10."""
    best = max(row["ndcg@10"] for row in valid_sweep)
    near = [row for row in valid_sweep if row["ndcg@10"] >= NEAR_BEST * best]
    return max(near, key=lambda row: row["exposure@10_tail"])["beta"]


def plot(name: str, dataset: str, r: dict[str, Any]) -> str:
    """Beta against NDCG@10 and tail exposure of one seed's TAR (validation and test) beside its two-tower model."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(figure)
    for axis, metric, label in zip(
        figure.subplots(1, 2), ("ndcg@10", "exposure@10_tail"), ("NDCG@10", "tail share of top-10 slots")
    ):
        for rows, style, legend in ((r["valid_sweep"], "o--", "TAR, validation"), (r["test_sweep"], "o-", "TAR, test")):
            axis.plot([row["beta"] for row in rows], [row[metric] for row in rows], style, label=legend)
        axis.axhline(r["runs"]["two-tower"]["test"][metric], color="grey", linestyle=":", label="two-tower, test")
        axis.set_xlabel("beta (1 = user-item only)")
        axis.set_ylabel(label)
        axis.legend(fontsize=7)
    figure.suptitle(f"{dataset}: beta against accuracy and tail exposure (history masked)", fontsize=9)
    figure.tight_layout()
    file = f"{name}_beta_{dataset}.png"
    figure.savefig(RESULTS / file, dpi=110)
    return file


def baselines(dataset: str) -> dict[str, dict[str, float]]:
    """Popularity and SASRec-CE test figures (history masked, mean over seeds) from sasrec_baselines.json."""
    path = RESULTS / "sasrec_baselines.json"
    if not path.exists():
        return {}
    out: dict[str, dict[str, float]] = {}
    for model in ("popularity", "sasrec-ce"):
        runs = [r for r in json.loads(path.read_text())["runs"] if r["dataset"] == dataset and r["model"] == model]
        if runs:
            masked = [r["test_history_masked"] for r in runs]
            out[model] = {k: sum(m[k] for m in masked) / len(masked) for k in ("ndcg@10", "exposure@10_tail")}
            out[model]["seeds"] = len(runs)
    return out


def with_predicted_tags(runs: dict[str, dict[str, Any]], intent_run: Path) -> dict[str, Any]:
    """TAR with the hybrid's predicted categories of an `intent hybrid` run as its tags (at its own beta and at
    the beta tuned for them on the validation cut-off) and its own tags, beside the two-tower model, on the intent
    run's sampled users."""
    import pandas as pd

    from agenticrec.intent import artifacts
    from agenticrec.intent.retrieval import metrics_by_beta, tar_with_predicted_categories
    from agenticrec.models.tar import TAR
    from agenticrec.pipeline import load_run

    predicted = pd.read_parquet(artifacts.intent_dir(intent_run) / artifacts.PREDICTED_CATEGORIES)
    run = load_run(Path(runs["two-tower"]["run_dir"]))
    assert isinstance(run.model, TAR)
    users = sorted(int(u) for u in predicted["user_index"].unique())
    two_tower = metrics_by_beta(run, run.model, users, 1, None, [1.0])[1.0]["ndcg@10"]
    tar_run = Path(runs["tar"]["run_dir"])
    return tar_with_predicted_categories(run.dataset, tar_run, predicted) | {"ndcg10_two_tower": two_tower}


def seed_result(
    dataset: str, seed: int, runs_dir: Path, overrides: list[str], reuse: bool, sweep_users: int,
    intent_run: Path | None,
) -> dict[str, Any]:  # fmt: skip
    from agenticrec.models.tar import TAR
    from agenticrec.pipeline import load_run

    runs = {name: train(dataset, preset, seed, runs_dir, overrides, reuse) for name, preset in MODELS.items()}
    tar = runs["tar"]
    tuned = tar["train"]["tuned_on_validation"]
    run = load_run(Path(tar["run_dir"]))
    assert isinstance(run.model, TAR)
    # every beta on a sample of test users, for the plot only; the validation-chosen tail beta on every test user
    test = [test_metrics(run, beta, sweep_users) for beta in run.model.config.beta_grid]
    chosen_tail = tail_beta(tuned["beta_sweep"])
    at_tail = test_metrics(run, chosen_tail)
    return {
        "runs": runs,
        "best_beta": tuned["best_beta"],
        "tail_beta": chosen_tail,
        "valid_sweep": tuned["beta_sweep"],
        "test_sweep": test,
        "tar_at_tail_beta": at_tail,
        "baselines": baselines(dataset),
        **({"predicted_tags": with_predicted_tags(runs, intent_run)} if intent_run else {}),
    }


def headline(r: dict[str, Any]) -> dict[str, float]:
    """One seed's headline figures of one dataset."""
    two_tower, tar = r["runs"]["two-tower"]["test"], r["runs"]["tar"]["test"]
    return {
        "ndcg10_two_tower": two_tower["ndcg@10"],
        "ndcg10_tar_best": tar["ndcg@10"],
        "best_beta": r["best_beta"],
        "tail_beta": r["tail_beta"],
        "ndcg10_tar_tail_beta": r["tar_at_tail_beta"]["ndcg@10"],
        "tail_exposure_two_tower": two_tower["exposure@10_tail"],
        "tail_exposure_tar": r["tar_at_tail_beta"]["exposure@10_tail"],
        "tail_exposure_tar_best_beta": tar["exposure@10_tail"],
        **(predicted_headline(r["predicted_tags"]) if "predicted_tags" in r else {}),
    }


def predicted_headline(figures: dict[str, Any]) -> dict[str, float]:
    """One seed's figures with predicted tags: the hybrid with the LLM's score where it ran, else without."""
    best = "hybrid" if "ndcg10_hybrid" in figures else "hybrid_without_llm"
    out = {
        "ndcg10_tar_predicted_tags": figures[f"ndcg10_{best}_tuned"],
        "beta_predicted_tags": figures[f"beta_{best}"],
        "ndcg10_tar_predicted_tags_run_beta": figures[f"ndcg10_{best}"],
        "ndcg10_tar_history_tags_sampled": figures["ndcg10_history_tags"],
        "ndcg10_two_tower_sampled": figures["ndcg10_two_tower"],
        "predicted_tags_users": figures["users"],
        "predicted_tags_llm_scored": float(best == "hybrid"),
    }
    if best == "hybrid":
        out["ndcg10_tar_predicted_tags_without_llm"] = figures["ndcg10_hybrid_without_llm_tuned"]
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def mean_and_std(rows: list[dict[str, float]]) -> dict[str, float]:
    """The mean of every figure over seeds, and ``<figure>_std`` beside it when there are several seeds."""
    out: dict[str, float] = {}
    for key in rows[0]:
        mean, std = mean_std([row[key] for row in rows])
        out[key] = mean
        if len(rows) > 1:
            out[f"{key}_std"] = std
    return out


def summary_of(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per dataset (Beauty unprefixed): headline figures, mean (and std) over seeds, and the baselines."""
    summary: dict[str, Any] = {}
    for dataset, seeds in results.items():
        prefix = "" if dataset == "amazon-beauty" else dataset.replace("amazon-", "") + "_"
        figures = mean_and_std([headline(r) for r in seeds]) | {"seeds": len(seeds)}
        summary |= {prefix + key: value for key, value in figures.items()}
        for model, key in (("sasrec-ce", "ndcg10_sasrec_ce"), ("popularity", "ndcg10_popularity")):
            if model in seeds[0]["baselines"]:
                summary[prefix + key] = seeds[0]["baselines"][model]["ndcg@10"]
    return summary


def cell(values: list[float]) -> str:
    mean, std = mean_std(values)
    return f"{mean:.4f} ± {std:.4f}" if len(values) > 1 else f"{mean:.4f}"


def predicted_lines(rows: list[dict[str, float]]) -> list[str]:
    """The table of TAR with the hybrid's predicted tags on the intent run's users."""
    betas = "/".join(f"{r['beta_predicted_tags']:.1f}" for r in rows)
    scored = "with the LLM's score" if rows[0]["predicted_tags_llm_scored"] else "without an LLM score"
    lines = [
        f"TAR with the hybrid's predicted categories as tags ({scored}), on the intent run's "
        f"{rows[0]['predicted_tags_users']:.0f} sampled users (test item, full ranking, history masked):",
        "",
        "| model, tags | beta | NDCG@10 |",
        "|---|---|---|",
        f"| two-tower | 1.0 | {cell([r['ndcg10_two_tower_sampled'] for r in rows])} |",
        f"| tar, tags of the last items | run's | {cell([r['ndcg10_tar_history_tags_sampled'] for r in rows])} |",
        f"| tar, predicted tags | run's | {cell([r['ndcg10_tar_predicted_tags_run_beta'] for r in rows])} |",
        f"| tar, predicted tags | {betas} (tuned on the "
        f"validation cut-off) | {cell([r['ndcg10_tar_predicted_tags'] for r in rows])} |",
    ]
    if "ndcg10_tar_predicted_tags_without_llm" in rows[0]:
        lines.append(f"| tar, predicted without the LLM (tuned) | | "
                     f"{cell([r['ndcg10_tar_predicted_tags_without_llm'] for r in rows])} |")  # fmt: skip
    return lines


def markdown(name: str, results: dict[str, list[dict[str, Any]]], command: str, overrides: list[str]) -> str:
    """The BENCHMARKS.md section, with each dataset's beta plot (written beside the results)."""
    info = machine()
    variant = [o for o in overrides if o.startswith("model.")]
    seeds = sorted({r["runs"]["tar"]["seed"] for rows in results.values() for r in rows})
    lines = [
        "## Tri-tower retrieval (RecGPT TAR)"
        + (f", {' '.join(variant)}" if variant else "")
        + (
            ", fed the hybrid's predicted categories"
            if any("predicted_tags" in r for rs in results.values() for r in rs)
            else ""
        ),
        "",
        f"Command: `{command}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}  ",
        f"Protocol: leave-one-out, full ranking over all items, history masked; seeds {seeds} (mean ± std where "
        "several); TAR's tags are the item's category-path levels, a user's tags those of their last 3 items; beta "
        "chosen on validation NDCG@10 per seed (the tail beta: most validation tail exposure within "
        f"{1 - NEAR_BEST:.0%} of the best). Tail = the least popular 50% of items; exposure = their share of top-10 "
        "slots. SASRec-CE and popularity: sasrec_baselines.json (same split and protocol, mean over its seeds). "
        "The plot is the first seed's.",
    ]
    for dataset, rows in results.items():
        lines += [
            "",
            f"### {dataset}",
            "",
            "| model | beta | NDCG@10 | R@10 | R@20 | R@50 | coverage@10 | tail exposure@10 | train s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for model in MODELS:
            tests = [r["runs"][model]["test"] for r in rows]
            betas = [r["best_beta"] if model == "tar" else 1.0 for r in rows]
            metrics = ("ndcg@10", "recall@10", "recall@20", "recall@50", "coverage@10", "exposure@10_tail")
            seconds = statistics.fmean(r["runs"][model]["train"]["train_seconds"] for r in rows)
            lines.append(
                f"| {model} | {'/'.join(map(str, betas))} | "
                + " | ".join(cell([t[m] for t in tests]) for m in metrics)
                + f" | {seconds:.0f} |"
            )
        tails = [r["tar_at_tail_beta"] for r in rows]
        lines.append(
            f"| tar (tail beta) | {'/'.join(str(r['tail_beta']) for r in rows)} | "
            f"{cell([t['ndcg@10'] for t in tails])} | | | | | {cell([t['exposure@10_tail'] for t in tails])} | |"
        )
        for baseline, b in rows[0]["baselines"].items():
            lines.append(
                f"| {baseline} ({b['seeds']} seeds) | | {b['ndcg@10']:.4f} | | | | | {b['exposure@10_tail']:.4f} | |"
            )
        if "predicted_tags" in rows[0]:
            lines += ["", *predicted_lines([predicted_headline(r["predicted_tags"]) for r in rows])]
        lines += ["", f"![beta sweep](benchmarks/results/{plot(name, dataset, rows[0])})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["amazon-beauty"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="figures are mean ± std over seeds")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks-tar"))
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides for every run")
    parser.add_argument("--reuse", action="store_true", help="read back runs that already finished")
    parser.add_argument("--sweep-users", type=int, default=5000, help="seeded test users of the plotted beta sweep")
    parser.add_argument("--name", default="tar", help="results file, plot prefix and BENCHMARKS.md section")
    parser.add_argument(
        "--predicted-tags", nargs="*", default=[], metavar="DATASET=RUN",
        help="an `intent hybrid` run per dataset whose predicted categories TAR also takes as its tags",
    )  # fmt: skip
    args = parser.parse_args()
    from common import command

    intent_runs = {d: Path(run) for d, _, run in (p.partition("=") for p in args.predicted_tags)}
    results = {
        d: [
            seed_result(d, s, args.runs_dir, args.overrides, args.reuse, args.sweep_users, intent_runs.get(d))
            for s in args.seeds
        ]
        for d in args.datasets
    }
    summary = summary_of(results)
    protocol = {
        "split": "leave-one-out, full ranking, history masked",
        "seeds": args.seeds,
        "tags": "category-path levels below the root; a user's tags: those of their last 3 items",
        "beta": "best of 0..1 step 0.1 on validation NDCG@10; tail beta: most validation tail exposure within 5%",
        "test_sweep": f"test metrics at every beta on {args.sweep_users} seeded test users, for the plot only",
        "baselines": "sasrec_baselines.json, history masked, mean over seeds",
        "overrides": args.overrides,
        "predicted_tags": "the hybrid's first categories (as many as TAR's tag_items, each as its category-path "
        "tags) from `intent hybrid` (logistic regression over the category priors, MiniLM similarity and, where "
        "`intent score` ran, the LLM's score; fitted on the validation cut-off) as TAR's tag-tower input; beta "
        "tuned on the validation cut-off with the hybrid's categories there; the intent run's sampled users only",
    }
    save(args.name, results, protocol, summary=summary)
    update_section(args.name, markdown(args.name, results, command(), args.overrides))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
