"""RecGPT user intent, measured: history compression (Office 2014, MovieLens-100k, Beauty), interest mining,
tag prediction by HR@K against category baselines, and the judge's agreement on a constructed labelled set.

    .venv/bin/python benchmarks/intent.py --llm qwen-1.5b --users 100
    .venv/bin/python benchmarks/intent.py --users 100 --skip-judge
    .venv/bin/python benchmarks/intent.py --llm qwen-1.5b --users 40 --hr-only amazon-office   # HR@K elsewhere

Per LLM (`smollm2`, the embedded default, or `qwen15` with the qwen-1.5b preset) the Beauty run lives in
runs/intent-amazon-beauty-<model>; a re-run replays finished calls from the ledger, and a smaller --users is a prefix
of a larger sample. Writes benchmarks/results/intent_<model>.json; benchmarks/results/intent.json gets the summary the
issue names (Beauty, Qwen-1.5B where that run exists) and BENCHMARKS.md the section "intent". ``--hr-only DATASET``
runs mining, tags and HR@K alone on another dataset: benchmarks/results/intent_<model>_<dataset>.json and the section
"intent-hr".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from agenticrec.intent.judging import run_judge
from agenticrec.intent.report import write_report
from agenticrec.intent.stage import run_compress, run_evaluate, run_mine, run_tags
from agenticrec.llm import LLMClient
from agenticrec.pipeline import RunConfig, load_config
from common import RESULTS, command, machine, save, update_section

MODEL_TAGS = {None: "smollm2", "qwen-1.5b": "qwen15"}
COMPRESSION_DATASETS = ["amazon-office", "movielens-100k", "amazon-beauty"]
# what each model can do: SmolLM2-135M cannot write interests (it rambles and invents evidence), so its interests
# are grounded (category groups); both write tags, constrained to the JSON schema
SETTINGS = {
    "smollm2": ["intent.mining=grounded", "llm.roles.tag_predictor.choice=generate"],
    "qwen15": ["llm.roles.tag_predictor.choice=generate", "llm.roles.judge.choice=score"],
}


def config_for(dataset: str, llm: str | None, run_dir: Path, extra: list[str]) -> RunConfig:
    return load_config(None, [f"run_dir={run_dir}", "seed=0", *extra], data=dataset, llm=llm)


def compression(llm: str | None, model: str, users: int) -> dict[str, dict[str, Any]]:
    out = {}
    for dataset in COMPRESSION_DATASETS:
        config = config_for(dataset, llm, Path(f"runs/intent-compression-{dataset}-{model}"), [f"intent.users={users}"])
        with LLMClient(config.llm, config.run_dir) as client:
            out[dataset] = run_compress(config.data.load(), config.intent, client, config.run_dir, config.seed)
        print(
            dataset,
            {k: out[dataset][k] for k in ("compression_token_reduction", "fit_share_before", "fit_share_after")},
        )
    return out


def hr_run(
    llm: str | None, model: str, users: int, judge: bool, extra: list[str], dataset: str = "amazon-beauty"
) -> dict[str, Any]:
    run_dir = Path(f"runs/intent-{dataset}-{model}")
    config = config_for(dataset, llm, run_dir, [f"intent.users={users}", *SETTINGS[model], *extra])
    dataset = config.data.load()
    timings: dict[str, float] = {}
    result: dict[str, Any] = {}
    with LLMClient(config.llm, run_dir) as client:
        for name, stage in (("compress", run_compress), ("mine", run_mine), ("tags", run_tags)):
            started = time.perf_counter()
            result[name] = stage(dataset, config.intent, client, run_dir, config.seed)
            timings[name] = time.perf_counter() - started
        calls = client.usage.as_dict()
    result["evaluate"] = run_evaluate(dataset, config.intent, run_dir, config.seed)
    if judge:
        with LLMClient(config.llm, run_dir) as client:
            started = time.perf_counter()
            result["judge"] = run_judge(dataset, config.intent, config.judge, client, run_dir, config.seed)
            timings["judge"] = time.perf_counter() - started
    write_report(dataset, config.intent, run_dir)
    result["timings_s"] = timings
    result["llm_calls"] = calls
    result["config"] = config.model_dump(mode="json", include={"intent", "judge", "llm"})
    return result


def summary_of(compressed: dict[str, dict[str, Any]], beauty: dict[str, Any], users: int) -> dict[str, Any]:
    office = compressed["amazon-office"]
    hr = beauty["evaluate"]["summary"]
    # requests per user, answered by the model or replayed from the ledger (a resumed run replays earlier ones)
    calls = sum(v["calls"] for k, v in beauty["llm_calls"].items() if k in ("interest_miner", "tag_predictor"))
    summary: dict[str, Any] = {
        "compression_token_reduction": office["compression_token_reduction"],
        "fit_share_before": office["fit_share_before"],
        "fit_share_after": office["fit_share_after"],
        "compression_token_reduction_movielens": compressed["movielens-100k"]["compression_token_reduction"],
        "fit_share_before_movielens": compressed["movielens-100k"]["fit_share_before"],
        "fit_share_after_movielens": compressed["movielens-100k"]["fit_share_after"],
        **{f"hr30_{m}": hr[f"hr30_{m}"] for m in ("llm", "popular", "recent", "transition", "hybrid")},
        **{f"hr10_{m}": hr[f"hr10_{m}"] for m in ("llm", "popular", "recent", "transition", "hybrid")},
        "users_evaluated": hr["users_evaluated"],
        "evidence_valid_share": beauty["mine"]["evidence_valid_share"],
        "repaired_interests": beauty["mine"]["repaired_interests"],
        "dropped_interests": beauty["mine"]["dropped_interests"],
        "llm_calls_per_user": calls / users,
    }
    if "judge" in beauty:
        summary["judge_kappa_min"] = beauty["judge"]["summary"]["judge_kappa_min"]
        summary["judge_kappa_mean"] = beauty["judge"]["summary"]["judge_kappa_mean"]
        for key in ("judge_kappa_heldout_mean", "judge_kappa_heldout_min"):  # the judge calibrated on labels
            summary[key] = beauty["judge"]["summary"][key]
    return summary


WRITTEN = ("hr30_llm", "hr10_llm", "hr30_hybrid", "hr10_hybrid", "users_evaluated")
"""The tag writer's figures (`intent tags`), kept with the suffix `_written` once candidate scoring replaces them."""
CANDIDATE_KEYS = (
    "hr30_popular", "hr30_recent", "hr30_transition", "hr10_popular", "hr10_recent", "hr10_transition",
    "hr30_hybrid", "hr10_hybrid", "hr30_hybrid_without_llm", "hr10_hybrid_without_llm", "hr30_best_baseline",
    "users_evaluated", "simulated_p_to_beat_baseline", "llm_top1_accuracy",
)  # fmt: skip
JUDGE_KEYS = ("judge_kappa_min", "judge_kappa_mean", "judge_kappa_heldout_mean", "judge_kappa_heldout_min",
              "judge_criteria_unusable", "judge_criteria_refused")  # fmt: skip


def assembled(headline: dict[str, Any], candidates: dict[str, Any], agreement: dict[str, Any] | None) -> dict:
    """Issue 33's summary: tags by candidate scoring (`intent_candidates.py`; `hr30_llm` is the LLM's score alone)
    for Beauty and, suffixed `_office`, Office; the judge of a `judge run` (raw and calibrated kappa); the
    compression figures and the tag writer's (`*_written`) from the headline run."""
    summary = dict(headline["summary"])
    summary |= {f"{key}_written": summary.pop(key) for key in WRITTEN if key in summary}
    figures = candidates["summary"]
    for suffix in ("", "_office"):
        summary |= {
            f"{key}{suffix}": figures[f"{key}{suffix}"] for key in CANDIDATE_KEYS if f"{key}{suffix}" in figures
        }
        for k in (10, 30):
            if f"hr{k}_part_llm{suffix}" in figures:
                summary[f"hr{k}_llm{suffix}"] = figures[f"hr{k}_part_llm{suffix}"]
    if agreement is not None:
        summary |= {key: agreement["summary"][key] for key in JUDGE_KEYS if key in agreement["summary"]}
    return summary


def markdown(results: dict[str, dict[str, Any]]) -> str:
    info = machine()
    lines = [
        "## User intent (RecGPT part 1)",
        "",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; last updated {time.strftime('%Y-%m-%d')}  ",
    ]
    for model, payload in results.items():
        s, protocol = payload["summary"], payload["protocol"]
        lines += [
            "",
            f"### {model}",
            "",
            f"Command: `{payload['command']}`  ",
            f"Protocol: {protocol['users']}; {protocol['hit']}; tag->category: {protocol['tag_to_category']}; "
            f"hybrid: {protocol['hybrid']}. Settings: {', '.join(SETTINGS[model])}.",
            "",
            "| figure | value |",
            "|---|---|",
            *[f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in s.items()],
        ]
        if payload.get("judge"):
            lines += [
                "",
                "| judge criterion | cases | accuracy | precision | recall | F1 | kappa |",
                "|---|---|---|---|---|---|---|",
            ]
            for name, m in payload["judge"]["criteria"].items():
                lines.append(
                    f"| {name} | {m['cases']} | "
                    + " | ".join(f"{m[k]:.3f}" for k in ("accuracy", "precision", "recall", "f1", "kappa"))
                    + " |"
                )
    return "\n".join(lines)


def hr_elsewhere(dataset: str, llm: str | None, model: str, users: int, extra: list[str]) -> None:
    """Mining, tags and HR@K on ``dataset`` (no compression figures, no judge)."""
    started = time.perf_counter()
    result = hr_run(llm, model, users, False, extra, dataset)
    hr = result["evaluate"]["summary"]
    methods = ("llm", "popular", "recent", "transition", "hybrid")
    summary = {f"hr{k}_{m}": hr[f"hr{k}_{m}"] for k in (30, 10) for m in methods} | {
        "users_evaluated": hr["users_evaluated"],
        "evidence_valid_share": result["mine"]["evidence_valid_share"],
        "wall_minutes": (time.perf_counter() - started) / 60,
    }
    save(f"intent_{model}_{dataset}", {"hr": hr}, result["evaluate"]["protocol"], summary=summary, run=result)
    rows = [
        json.loads(path.read_text())
        for path in sorted(RESULTS.glob("intent_*_*.json"))
        if "summary" in path.read_text()
    ]
    lines = ["## User intent: HR@K on more datasets", ""]
    for payload in rows:
        s = payload["summary"]
        lines += [
            f"Command: `{payload['command']}`  ",
            f"Protocol: {payload['protocol']['users']}; {payload['protocol']['hit']}.",
            "",
            "| method | HR@10 | HR@30 |",
            "|---|---|---|",
            *[f"| {m} | {s[f'hr10_{m}']:.4f} | {s[f'hr30_{m}']:.4f} |" for m in methods],
            "",
        ]
    update_section("intent-hr", "\n".join(lines))
    print(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default=None, help="LLM preset (qwen-1.5b); default: the embedded SmolLM2")
    parser.add_argument("--users", type=int, default=1000, help="seeded Beauty test users for mining and tags")
    parser.add_argument("--compression-users", type=int, default=1000)
    parser.add_argument("--skip-judge", action="store_true")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config overrides for the Beauty run")
    parser.add_argument("--hr-only", metavar="DATASET", help="only mining, tags and HR@K, on this dataset")
    parser.add_argument("--judge-run", type=Path, help="a finished `judge run` directory: its calibrated judge")
    parser.add_argument(
        "--assemble", action="store_true",
        help="only write intent.json from the results saved; without --judge-run, the judge assembled last time stays",
    )  # fmt: skip
    args = parser.parse_args()
    model = MODEL_TAGS[args.llm]
    if args.assemble:
        headline = json.loads((RESULTS / f"intent_{model}.json").read_text())
        write_headline(headline, args.judge_run, keep_judge=args.judge_run is None)
        return
    if args.hr_only:
        hr_elsewhere(args.hr_only, args.llm, model, args.users, args.overrides)
        return
    started = time.perf_counter()
    compressed = compression(args.llm, model, args.compression_users)
    beauty = hr_run(args.llm, model, args.users, not args.skip_judge, args.overrides)
    summary = summary_of(compressed, beauty, args.users) | {"wall_minutes": (time.perf_counter() - started) / 60}
    protocol = beauty["evaluate"]["protocol"] | {
        "compression": f"{args.compression_users} seeded users per dataset, tokens by the {model} tokenizer, "
        "test histories (everything before each user's last item); summary keys without suffix: Office 2014",
        "judge": "constructed labels: real outputs pass, controlled defects fail (intent/defects.py)",
        "wall_minutes": "this invocation only; a resumed run replays its earlier calls from the ledger",
    }
    save(
        f"intent_{model}",
        {"compression": compressed, "hr": beauty["evaluate"]["summary"]},
        protocol,
        summary=summary,
        beauty=beauty,
    )
    results = {
        m: json.loads((RESULTS / f"intent_{m}.json").read_text())
        for m in SETTINGS
        if (RESULTS / f"intent_{m}.json").exists()
    }
    for payload in results.values():
        payload["judge"] = payload["beauty"].get("judge")
    update_section("intent", markdown(results))
    write_headline(results.get("qwen15") or results[model], args.judge_run)


def write_headline(headline: dict[str, Any], judge_run: Path | None, keep_judge: bool = False) -> None:
    """benchmarks/results/intent.json: the headline run's summary with candidate scoring's and the judge's: that of
    ``judge_run``, with ``keep_judge`` the one the last intent.json assembled, else the headline run's own."""
    candidates = json.loads((RESULTS / "intent_candidates.json").read_text())
    source = str(judge_run) if judge_run else "the headline run's"
    agreement = json.loads((judge_run / "judge" / "agreement.json").read_text()) if judge_run else None
    if keep_judge and (RESULTS / "intent.json").exists():
        previous = json.loads((RESULTS / "intent.json").read_text())
        agreement, source = previous.get("judge"), previous["protocol"].get("judge_run", source)
    summary = assembled(headline, candidates, agreement)
    protocol = headline["protocol"] | {
        "tags": "by candidate scoring (benchmarks/results/intent_candidates.json); *_written: the tag writer's, "
        f"{headline['summary']['users_evaluated']} users",
        "judge_run": source,
    }
    save("intent", headline["metrics"], protocol, summary=summary, model=headline["benchmark"],
         candidates=candidates["protocol"], judge=agreement)  # fmt: skip
    update_section("intent_summary", summary_markdown(summary, (agreement or {}).get("calibrated", {})))
    print(json.dumps(summary, indent=2))


def summary_markdown(s: dict[str, Any], calibrated: dict[str, dict[str, Any]]) -> str:
    """Issue 33's targets on the assembled summary, and the calibrated judge's held-out figures per criterion."""

    def row(target: str, measured: str, met: bool) -> str:
        return f"| {target} | {measured} | {'yes' if met else 'no'} |"

    lines = ["## RecGPT against its baselines (issue 33)", "", f"Command: `{command()}`  ", "",
             "| target | measured | met |", "|---|---|---|"]  # fmt: skip
    for suffix, name in (("", "Beauty"), ("_office", "Office")):
        if f"hr30_hybrid{suffix}" in s:
            hybrid, best, without = (s[f"hr30_{k}{suffix}"] for k in ("hybrid", "best_baseline", "hybrid_without_llm"))
            lines.append(row(f"hybrid HR@30 > best baseline ({name})", f"{hybrid:.4f} vs {best:.4f}", hybrid > best))
            lines.append(row(f"the LLM adds ≥ 2 points HR@30 to the hybrid ({name})",
                             f"{hybrid - without:+.4f}", hybrid - without >= 0.02))  # fmt: skip
    if "judge_kappa_heldout_mean" in s:
        lines.append(row("judge held-out kappa ≥ 0.6 (mean over all fitted criteria, unusable ones included)",
                         f"{s['judge_kappa_heldout_mean']:.3f} (min {s['judge_kappa_heldout_min']:.3f})",
                         s["judge_kappa_heldout_mean"] >= 0.6))  # fmt: skip
    fitted = {c: m for c, m in calibrated.items() if "kappa" in m}
    if fitted:
        lines += ["", "The calibrated judge per criterion (logistic model fitted on the development half, kappa on the "
                  "held-out half; usable when kappa ≥ 0.4):", "",
                  "| criterion | held-out cases | kappa | judge features only | lexical check only | usable |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        lines += [f"| {c} | {m['cases']} | {m['kappa']:.2f} | {m.get('kappa_judge_only', m['kappa']):.2f} | "
                  f"{m.get('kappa_lexical_only', 0.0):.2f} | {'yes' if m['usable'] else 'no'} |"
                  for c, m in sorted(fitted.items())]  # fmt: skip
    lines += ["", "| summary key | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in s.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
