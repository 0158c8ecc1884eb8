"""The critique gain (issue 34): on a trained generative run over level-1 IDs (descriptors or categories), each
LLM's simulated user picks the wanted item's level-1 tokens by calibrated option scores (the best and a second
within 0.5, or none when nothing beats no item); NDCG@10 of the critiqued list against the vanilla one, beside the
oracle that picks the target's own level-1 token (the upper bound). Beside the hard critique, the soft one: the
user's option scores, times a weight fitted on seeded validation users, are a log-prior over the level-1 tokens of
beam search (`tagger.critique.experiment`).

    .venv/bin/python benchmarks/critique.py RUN_DIR [--llm smollm2 qwen-1.5b] [--users 5000] [--seed 0] [--threads N]
    .venv/bin/python benchmarks/critique.py RUN_DIR --llm smollm2 finetuned=runs/benchmarks-finetune/tuned/model.gguf

A user given as NAME=PATH is SmolLM2's embedded backend loading the GGUF at PATH (a fine-tuned model), keyed NAME.
`--examples 0 3` runs each user twice: with the options' cards as they are, and with each listing its 3 typical
items (most interacted-with in training; the same cards for every user, so their prompt prefix is evaluated once; keys
end in _examples3). A user whose wanted item is on a card is handed its descriptor: target_among_typical_<llm> is the
share of test users whose target is among the typical items of the largest --examples, and every arm's gains ending
in _unseen leave those users out).
`--choice calibrated score` runs each user twice: by calibrated option scores (the default) and by raw ones (the
same scoring calls, so a ledger that holds the calibrated run answers the raw one; its keys end in _score).

Writes benchmarks/results/critique_<dataset>.json (or --name; top-level `summary`: critique_gain_<llm>,
critique_gain_soft_<llm> and critique_gain_oracle, each with _ci_low and _ci_high (95% paired bootstrap over users),
soft_weight_<llm>, picks_mean_<llm>, abstained_share_<llm>, target_under_picks_<llm>, vanilla_ndcg10, users; <llm> is
smollm2, qwen15 or a GGUF's NAME) and the BENCHMARKS.md section of the same name.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

from agenticrec.pipeline import load_config
from agenticrec.tagger.critique.experiment import SOFT_WEIGHTS, run_critique
from agenticrec.tagger.critique.simulated_user import ROLE
from common import command, machine, save, update_section

KEYS = {"smollm2": "smollm2", "qwen-1.5b": "qwen15"}


def user_spec(value: str) -> tuple[str, str]:
    """A preset name, or NAME=PATH of an existing GGUF file, as (name, path); the path is empty for a preset."""
    name, _, path = value.partition("=")
    if not path and value not in KEYS:
        raise argparse.ArgumentTypeError(f"{value!r} is neither a preset ({', '.join(sorted(KEYS))}) nor NAME=PATH")
    if path and not (name and Path(path).is_file()):
        raise argparse.ArgumentTypeError(f"{value!r}: no GGUF file at {path!r}, or no name before '='")
    return name, path


def gain(result: dict[str, Any], decoding: str) -> float:
    """Relative NDCG@10 change of ``decoding`` over the vanilla list."""
    return result[decoding]["ndcg@10"] / result["vanilla"]["ndcg@10"] - 1.0


def gain_keys(result: dict[str, Any], decoding: str, name: str) -> dict[str, float]:
    """``decoding``'s gain under ``name``, and its 95% paired-bootstrap interval under ``name``_ci_low/_ci_high."""
    low, high = result["ndcg10_gain_ci95"][decoding]
    return {name: gain(result, decoding), f"{name}_ci_low": low, f"{name}_ci_high": high}


def gain_cell(result: dict[str, Any], decoding: str) -> str:
    low, high = result["ndcg10_gain_ci95"][decoding]
    return f"{gain(result, decoding):+.1%} [{low:+.0%}, {high:+.0%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a trained generative run on level-1 IDs")
    parser.add_argument("--llm", nargs="+", default=[("smollm2", "")], type=user_spec,
                        help=f"simulated users: {', '.join(sorted(KEYS))} or NAME=PATH to a GGUF")  # fmt: skip
    parser.add_argument("--users", type=int, default=5000, help="seeded test users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--valid-users", type=int, default=300, help="seeded validation users fitting the soft weight")
    parser.add_argument("--threads", type=int, help="engine threads of each simulated user (default: the preset's)")
    parser.add_argument("--choice", nargs="+", default=["calibrated"], choices=["calibrated", "score"],
                        help="how each user chooses: calibrated option scores (can abstain) or raw ones; "
                        "the summary keys of score end in _score")  # fmt: skip
    parser.add_argument("--examples", nargs="+", type=int, default=[0],
                        help="typical items listed on each level-1 option's card (0: name and description only); "
                        "the summary keys of N > 0 end in _examplesN")  # fmt: skip
    parser.add_argument("--name", help="results file and BENCHMARKS.md section (default: critique_DATASET), e.g. "
                        "for a second sample of users")  # fmt: skip
    args = parser.parse_args()
    if args.valid_users < 1:
        parser.error("--valid-users must be at least 1: the soft critique's weight is fitted on them")
    results, keys = {}, {}  # user label -> result, and its summary key
    for examples, choice, (name, gguf) in itertools.product(args.examples, args.choice, args.llm):
        user = [f"llm.roles.{ROLE}.choice={choice}", *([f"llm.backends.smollm2.model_path={gguf}"] if gguf else [])]
        llm = load_config(None, user, llm=None if name == "smollm2" or gguf else name).llm
        if args.threads:
            backend = llm.role(ROLE).backend
            llm.backends[backend] = llm.backends[backend].model_copy(update={"n_threads": args.threads})
        label = (
            name
            + ("" if choice == "calibrated" else ", raw scores")
            + (f", {examples} typical items" if examples else "")
        )
        keys[label] = (
            KEYS.get(name, name)
            + ("" if choice == "calibrated" else "_score")
            + (f"_examples{examples}" if examples else "")
        )
        results[label] = run_critique(args.run, args.users, args.seed, llm=llm, valid_users=args.valid_users,
                                      examples=examples, typical_apart=max(args.examples))  # fmt: skip
        if "soft" not in results[label]:
            raise SystemExit(f"{args.run}: no soft critique; it needs a generative model on semantic IDs")
    first = next(iter(results.values()))
    summary: dict[str, Any] = {"users": first["users"], "vanilla_ndcg10": first["vanilla"]["ndcg@10"]}
    for label, result in results.items():
        key = keys[label]
        summary |= {
            **gain_keys(result, "critique", f"critique_gain_{key}"),
            **gain_keys(result, "soft", f"critique_gain_soft_{key}"),
            f"soft_weight_{key}": result["soft_weight"],
            f"picks_mean_{key}": result["mean_picked"],
            f"abstained_share_{key}": result["abstained"] / result["users"],
            f"target_under_picks_{key}": result["target_under_picks"],
        }
        if unseen := result.get("targets_not_among_typical"):
            summary |= {
                f"target_among_typical_{key}": result["target_among_typical"],
                f"critique_gain_{key}_unseen": unseen["critique"] / unseen["vanilla"] - 1.0,
                f"critique_gain_soft_{key}_unseen": unseen["soft"] / unseen["vanilla"] - 1.0,
                f"target_under_picks_{key}_unseen": unseen["target_under_picks"],
            }
    summary |= gain_keys(first, "oracle", "critique_gain_oracle")
    dataset = first["protocol"]["dataset"]
    protocol = {
        **first["protocol"],
        "simulated_user": "calibrated option scores over the level-1 names: the best and a second within 0.5 (mean "
        "log-prob per token), abstaining when no name beats no item (the vanilla list is kept); with raw scores "
        "(_score keys) the same picks from the mean log-probs themselves, never abstaining; it reads the item text "
        "without the category field (user_text_fields)",
        "choices": args.choice,
        "soft": f"the user's option scores (calibrated, or raw for _score keys) times one weight of "
        f"{list(SOFT_WEIGHTS)} as a log-prior over the level-1 tokens of beam search; the weight has the best "
        f"NDCG@10 on {args.valid_users} seeded validation "
        f"users (seed {args.seed + 1}, their second-to-last item), weight 0 being the vanilla list",
        "oracle": "the target's own level-1 token",
        "gain": "NDCG@10 of the critiqued list / NDCG@10 of the vanilla list - 1, on the same users; _ci_low and "
        "_ci_high bound its 95% percentile bootstrap interval (2,000 resamples of users, paired)",
        "run": str(args.run),
    }
    name = args.name or f"critique_{dataset}"
    path = save(name, {p: {k: r[k] for k in ("vanilla", "critique", "soft", "oracle")} for p, r in
                results.items()}, protocol, summary=summary, details=results)  # fmt: skip
    rows = [f"| vanilla | {first['vanilla']['ndcg@10']:.4f} | {first['vanilla']['recall@10']:.4f} | | | |",
            f"| oracle (target's own level-1) | {first['oracle']['ndcg@10']:.4f} | "
            f"{first['oracle']['recall@10']:.4f} | {gain_cell(first, 'oracle')} | 1 | 0 |"]  # fmt: skip
    for label, result in results.items():
        m, picks = result["critique"], f"{result['mean_picked']:.2f} | {result['abstained']}"
        rows.append(f"| critique, {label} user | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | "
                    f"{gain_cell(result, 'critique')} | {picks} |")  # fmt: skip
        m = result["soft"]
        rows.append(f"| soft critique, {label} user (weight {result['soft_weight']:g}) | {m['ndcg@10']:.4f} | "
                    f"{m['recall@10']:.4f} | {gain_cell(result, 'soft')} | | |")  # fmt: skip
    m = machine()
    update_section(
        name,
        f"""## Critique gain on {dataset}{f", {name}" if args.name else ""} (`benchmarks/critique.py`)

Command: `{command()}` ({time.strftime("%Y-%m-%d")}; {m["cpu"]}, {m["cores_available"]} cores).
`{path.relative_to(path.parents[2])}`; {first["users"]} seeded test users (seed {args.seed}), leave-one-out, beam
{first["protocol"]["beam"]} over semantic IDs `{first["protocol"]["semantic_ids"]}` with
{first["protocol"]["level1_options"]} level-1 tokens. The simulated user reads the target's
{", ".join(first["protocol"]["user_text_fields"])} (never its category field, which names the level-1 tokens);
gain = critiqued NDCG@10 / vanilla NDCG@10 - 1. The soft
critique adds the user's option scores, times a weight fitted on {args.valid_users} seeded validation
users, to the level-1 tokens' beam scores (weight 0 is the vanilla list). The interval is a 95% percentile bootstrap
over users, paired (2,000 resamples).

| decoding | NDCG@10 | Recall@10 | gain [95% CI] | picks per user | abstained |
|---|---|---|---|---|---|
{chr(10).join(rows)}

{
            ", ".join(
                f"{k} {v:+.1%}" if k.startswith("critique_gain") else f"{k} {v:.3f}"
                for k, v in summary.items()
                if k.startswith(("critique_gain", "target_under")) and "_ci_" not in k
            )
        }
""",
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
