"""LaMAR end to end: the LLM ranker of LaMAR §4.4 on Scientific with and without the signal, and issue 36's summary,
assembled from the signal (`lamar_signal.py`), the models (`lamar_models.py`) and the ranker.

    .venv/bin/python benchmarks/lamar.py --llm qwen-1.5b --users 100 200 300 \\
        --baseline textseq=RUNS/sci-textseq-h300e8-s0 textseq-signal=RUNS/sci-textseq-h300e8-signal-s0 \\
        --llm-set llm.backends.qwen15.n_threads=1

The signal comes from `--signal` (default benchmarks/results/signal_scientific.parquet, written by `lamar_signal.py`).
The ranker renders an item as its title (arm `fields`) or as its title and the signal's value (arm `signal`), so the
two arms differ by the signal alone; one CPU thread ranks a user in about a minute per arm (the user's request and
its content-free twin, which scores the 21 titles again). Users come in steps (`--users`): each step ranks both
arms on the seeded sample of that size, which holds the previous step's users with the same candidates (their calls
replay from the ledger), so an interrupted run resumes and the latest finished step is the one reported. `--users 0`
only assembles. Writes benchmarks/results/lamar.json and the lamar section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from agenticrec.augment import artifacts
from agenticrec.augment.ranker import run_rank_llm
from agenticrec.config import save_config
from agenticrec.evaluate.ranking import difference_interval, ndcg_per_user
from agenticrec.llm import LLMClient
from agenticrec.pipeline import load_config
from common import RESULTS, command, machine, save, update_section

DATASET = "amazon-scientific"
ARMS = ("fields", "signal")
PAIRS = (
    ("signal", "fields"), ("fields", "random-expected"), ("signal", "random-expected"), ("fields", "random"),
    ("fields", "popularity"), ("fields", "textseq"), ("textseq", "popularity"), ("textseq-signal", "textseq"),
)  # fmt: skip
MODELS_KEYS = (
    "scientific_ndcg10_fields", "scientific_ndcg10_signal", "office_ndcg10_fields", "office_ndcg10_signal",
    "scientific_ndcg10_sasrec_ce", "office_ndcg10_sasrec_ce", "scientific_ndcg10_transfer",
    "scientific_signal_lift", "office_signal_lift", "scientific_signal_lift_paired_cpu",
    "office_signal_lift_paired_gpu", "scientific_transfer_over_scratch", "textseq_epochs_to_converge",
)  # fmt: skip
SIGNAL_KEYS = ("signal_drop_rate", "signal_items_per_s", "office_signal_drop_rate", "office_signal_items_per_s",
               "scientific_signal_value_in_first_field_share", "office_signal_value_in_first_field_share")  # fmt: skip


def arm_overrides(signal: Path, arm: str) -> list[str]:
    """The item text of one arm: the title, or the title and the signal's column of the table ``signal``."""
    [column] = [name for name in pq.read_schema(signal).names if name != "item_id"]
    fields = ["title"] if arm == "fields" else ["title", column]
    return [f"data.item_fields=[{signal}]", f"data.text_fields=[{','.join(fields)}]"]


def rank(users: int, args: argparse.Namespace, baselines: dict[str, Path]) -> dict[str, Any]:
    """Both arms on the seeded sample of `users` test users, beside random, popularity and the baselines."""
    out = {}
    for arm in ARMS:
        config = load_config(None, [*arm_overrides(args.signal, arm), *args.llm_overrides,
                                    f"augment.ranker.users={users}", f"run_dir={args.runs_dir / f'ranker-{arm}'}"],
                             data=DATASET, llm=args.llm)  # fmt: skip
        save_config(config, config.run_dir)
        with LLMClient(config.llm, config.run_dir) as client:
            out[arm] = run_rank_llm(config.data.load(), config.augment.ranker, client, config.run_dir, config.seed,
                                    baselines)  # fmt: skip
    return out


def pair_key(other: str, base: str) -> str:
    return f"ranker_ndcg10_{other}_minus_{base}".replace("-", "_")


def paired(ranker: dict[str, Any], runs_dir: Path) -> dict[str, float]:
    """NDCG@10 differences of `PAIRS` over the ranker's users (``fields`` and ``signal`` being the LLM's two arms),
    each with its 95% paired bootstrap interval (10,000 resamples of users), from the arms' ``ranks.parquet``."""
    ranks = {arm: pd.read_parquet(artifacts.augment_dir(runs_dir / f"ranker-{arm}") / artifacts.RANKS) for arm in ARMS}
    if not ranks["fields"]["user"].equals(ranks["signal"]["user"]):
        raise SystemExit("the two arms' ranks.parquet hold different users: rerun the last step")

    def per_user(one_based: pd.Series) -> np.ndarray:
        return ndcg_per_user(torch.as_tensor(one_based.to_numpy() - 1), 10)

    ndcg = {column.removeprefix("rank_"): per_user(values)
            for column, values in ranks["fields"].items() if column.startswith("rank_")}  # fmt: skip
    ndcg["fields"] = ndcg.pop("llm")
    ndcg["signal"] = per_user(ranks["signal"]["rank_llm"])
    ndcg["random-expected"] = np.full(len(ranks["fields"]), ranker["fields"]["methods"]["random-expected"]["ndcg@10"])
    out = {}
    for other, base in PAIRS:
        if other in ndcg and base in ndcg:
            key = pair_key(other, base)
            out[key] = float((ndcg[other] - ndcg[base]).mean())
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = difference_interval(ndcg[base], ndcg[other])
    return out


def summary_of(ranker: dict[str, Any] | None, runs_dir: Path) -> dict[str, Any]:
    """Issue 36's keys: the models' and the signal's from their results, the ranker's from `ranker`."""
    models = json.loads((RESULTS / "lamar_models.json").read_text())["summary"]
    signal = json.loads((RESULTS / "lamar_signal.json").read_text())["summary"]
    summary = {key: models.get(key) for key in MODELS_KEYS} | {key: signal.get(key) for key in SIGNAL_KEYS}
    if ranker:
        summary["ranker_users"] = ranker["fields"]["protocol"]["users"]
        summary["ranker_ndcg10_fields"] = ranker["fields"]["methods"]["llm"]["ndcg@10"]
        summary["ranker_ndcg10_signal"] = ranker["signal"]["methods"]["llm"]["ndcg@10"]
        for method, figures in ranker["fields"]["methods"].items():
            if method != "llm":
                summary[f"ranker_ndcg10_{method.replace('-', '_')}"] = figures["ndcg@10"]
        summary |= paired(ranker, runs_dir)
    return summary


def markdown(summary: dict[str, Any], ranker: dict[str, Any] | None) -> str:
    info = machine()
    s = summary
    lines = [
        "## LaMAR end to end (issue 36)",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}",
        "",
        "Assembled from the sections lamar_signal (the signal) and lamar_models (textseq and SASRec-CE, leave-one-out, "
        "full ranking, history masked, every run stopped by early stopping)"
        + (", and the LLM ranker below." if ranker else ". The LLM ranker is not measured yet."),
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    targets = (
        ("signal lifts textseq ≥ 3% (Scientific)", "scientific_signal_lift", 0.03),
        ("signal lifts textseq ≥ 3% (Office)", "office_signal_lift", 0.03),
        ("transfer beats scratch ≥ 5% (Scientific)", "scientific_transfer_over_scratch", 0.05),
    )
    for target, key, threshold in targets:
        lines.append(f"| {target} | {s[key]:+.1%} | {'yes' if s[key] >= threshold else 'no'} |")
    if ranker:
        ndcg = [s[f"ranker_ndcg10_{arm}"] for arm in ("signal", "fields", "random_expected")]
        met = "yes" if ndcg[0] > ndcg[1] > ndcg[2] else "no"
        lines.append(
            f"| ranker: signal > fields > random (expected) | {' / '.join(f'{v:.4f}' for v in ndcg)} | {met} |"
        )
        protocol = ranker["fields"]["protocol"]
        lines += [
            "",
            f"LLM ranker on {DATASET} ({protocol['users']} seeded test users, {protocol['history']} history items, "
            f"{protocol['candidates']}; every item field cut to its first {protocol['words']} words; "
            f"{protocol['mode']} scores of each candidate's cut title). Item text: `fields` = "
            f"{ranker['fields']['protocol']['text_fields']}, `signal` = {ranker['signal']['protocol']['text_fields']}. "
            "The baselines score the same 21 items from each user's full test history; `random` is one seeded "
            "random order, `random-expected` the exact expectation of a random order.",
            "",
            "| method | NDCG@10 | Recall@10 | MRR | hit@1 |",
            "|---|---|---|---|---|",
        ]
        rows = [("LLM, title + signal", ranker["signal"]["methods"]["llm"])]
        rows += [("LLM, title" if m == "llm" else m, f) for m, f in ranker["fields"]["methods"].items()]
        for label, f in rows:
            lines.append(f"| {label} | {f['ndcg@10']:.4f} | {f['recall@10']:.4f} | {f['mrr']:.4f} | {f['hit@1']:.4f} |")
        lines += ["", "Paired NDCG@10 differences over the same users (95% bootstrap interval, 10,000 resamples):",
                  "", "| difference | NDCG@10 | interval |", "|---|---|---|"]  # fmt: skip
        for other, base in PAIRS:
            key = pair_key(other, base)
            if key in s:
                interval = f"[{s[key + '_ci_low']:+.4f}, {s[key + '_ci_high']:+.4f}]"
                lines.append(f"| {other} − {base} | {s[key]:+.4f} | {interval} |")
    return "\n".join(lines)


def write(ranker: dict[str, Any] | None, args: argparse.Namespace) -> None:
    summary = summary_of(ranker, args.runs_dir)
    protocol = {
        "dataset": DATASET,
        "ranker": "LaMAR §4.4: 20 random items + the true next item per seeded test user, 5 history items",
        "llm": args.llm,
        "models": "from benchmarks/results/lamar_models.json",
        "signal": "from benchmarks/results/lamar_signal.json",
    }
    save("lamar", {"ranker": ranker}, protocol, summary=summary)
    update_section("lamar", markdown(summary, ranker))
    print(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default="qwen-1.5b", help="LLM preset of the ranker")
    parser.add_argument("--users", nargs="+", type=int, default=[100, 200, 300], help="steps of the ranker's sample")
    parser.add_argument("--signal", type=Path, default=RESULTS / "signal_scientific.parquet",
                        help="Scientific's signal table, as `lamar_signal.py` writes it")  # fmt: skip
    parser.add_argument("--baseline", nargs="*", default=[], help="NAME=RUN_DIR: trained runs on the same candidates")
    parser.add_argument("--llm-set", dest="llm_overrides", nargs="*", default=[], help="overrides of the ranker")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmarks-lamar"))
    args = parser.parse_args()
    baselines = {name: Path(path) for name, _, path in (b.partition("=") for b in args.baseline)}
    previous = RESULTS / "lamar.json"
    ranker = json.loads(previous.read_text())["metrics"].get("ranker") if previous.exists() else None
    steps = [users for users in args.users if users > 0]
    if steps and not args.signal.is_file():
        parser.error(f"no signal table at {args.signal}: run `augment generate` and `benchmarks/lamar_signal.py` first")
    for users in steps:  # each step written as it finishes
        ranker = rank(users, args, baselines)
        write(ranker, args)
    if not steps:
        write(ranker, args)


if __name__ == "__main__":
    main()
