"""Issue 35: distil the capable model's checked choices into the embedded one, and measure it on held-out catalogues.

The task is the tagger annotator's own request (`tagger.agents.annotate_request`, one item, calibrated option
scores): pick an item's level-3 category among the children of its level-2 category, each shown as a descriptor.

1. curate: the teacher (Qwen2.5-Coder-1.5B, benchmark only) chooses for a seeded sample of Beauty items; a choice is
   kept only when it agrees with the catalogue's label (the check the task has). Examples go to RUNS/examples.jsonl,
   split by item when tuned.
2. tune: `agenticrec llm finetune` (LoRA on SmolLM2-135M, merged into RUNS/tuned/model.gguf).
3. evaluate on catalogues no example came from (Sports, Scientific): choice accuracy of the base SmolLM2, the tuned
   one and the teacher, beside random and majority-sibling baselines, on the same seeded items.

An item is shown by its text fields without its category (title and brand; Sports has no titles: brand and
IDGenRec's generated keywords, which share a word with the category path for about 60% of items, SOURCE.md).

    .venv/bin/python benchmarks/finetune.py --teacher-items 1500 --eval-items 300 --threads 1

Every LLM call is cached in RUNS/<model>/llm.sqlite, so a rerun pays nothing. Writes benchmarks/results/finetune.json
(summary: choice_acc_<model>_<dataset>, examples_kept, ...) and the BENCHMARKS.md section "finetune".
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agenticrec.data import load_dataset
from agenticrec.data.dataset import present
from agenticrec.finetune.config import FinetuneConfig
from agenticrec.finetune.examples import Example
from agenticrec.finetune.run import MODEL, run_finetune
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.llm.backends.embedded import default_model_path
from agenticrec.tagger.agents import ANNOTATOR, annotate_request
from agenticrec.tagger.vocabulary import Descriptor
from common import command, machine, save, update_section

NAME = "finetune"
SEED = 0
TEXT_CHARS = 300
QWEN = Path("~/.cache/agenticrec/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").expanduser()


@dataclass(frozen=True)
class Choice:
    """One item's question: its level-2 category, the level-3 siblings to choose among, and its own."""

    item: str
    text: str
    parent: str
    options: tuple[str, ...]
    label: str


def choices(dataset_name: str, n: int, seed: int) -> tuple[list[Choice], dict[str, Counter[str]]]:
    """A seeded sample of ``n`` items whose level-2 category has at least two level-3 children, and the level-3
    counts per level-2 category among the other eligible items (the majority baseline's prior)."""
    dataset = load_dataset(dataset_name)
    categories = dataset.categories()
    assert categories is not None
    paths = [[level.strip() for level in str(c).split(">")] for c in categories]
    children: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if len(path) >= 3:
            children[path[1]].add(path[2])
    fields = [f for f in dataset.text_fields if f != dataset.category_field]  # the label never in the prompt
    texts = ["; ".join(f"{f}: {row[f]}" for f in fields if present(row[f])) for _, row in dataset.items.iterrows()]
    ids = dataset.item_ids()
    eligible = [i for i, path in enumerate(paths) if len(path) >= 3 and len(children[path[1]]) >= 2]
    chosen = sorted(random.Random(seed).sample(eligible, min(n, len(eligible))))
    prior: dict[str, Counter[str]] = defaultdict(Counter)
    for i in set(eligible) - set(chosen):
        prior[paths[i][1]][paths[i][2]] += 1
    sample = [
        Choice(f"{dataset_name}:{ids[i]}", texts[i][:TEXT_CHARS], paths[i][1], tuple(sorted(children[paths[i][1]])),
               paths[i][2])
        for i in chosen
    ]  # fmt: skip
    return sample, prior


def request(choice: Choice, text: str | None = None) -> list[dict[str, str]]:
    """The annotator's request for one item, the siblings shown as descriptors under their parent."""
    parent = Descriptor(id="p", name=choice.parent, description=f"Products in {choice.parent}", level=1)
    children = [Descriptor(id=f"c{k}", name=o, description=f"{choice.parent} > {o}", level=2, parent="p")
                for k, o in enumerate(choice.options)]  # fmt: skip
    return annotate_request(parent, children, [choice.text if text is None else text], allow_none=False,
                            limit=TEXT_CHARS)  # fmt: skip


def llm(model_path: Path, threads: int) -> LLMConfig:
    return LLMConfig.model_validate({
        "backends": {"model": {"kind": "embedded", "model_path": str(model_path), "n_threads": threads, "n_ctx": 2048}},
        "default": {"backend": "model", "choice": "calibrated"}, "progress": False,
    })  # fmt: skip


def picks(model_path: Path, items: list[Choice], ledger: Path, threads: int) -> list[str | None]:
    """The model's calibrated choice for each item (None where the call failed)."""
    with LLMClient(llm(model_path, threads), ledger) as client:
        chosen = client.choose(ANNOTATOR, [request(c) for c in items], [list(c.options) for c in items],
                               content_free=[request(c, "N/A") for c in items])  # fmt: skip
    return [None if p.index is None else c.options[p.index] for c, p in zip(items, chosen)]


def accuracy(items: list[Choice], chosen: list[str | None]) -> float:
    return sum(p == c.label for c, p in zip(items, chosen)) / len(items)


def baselines(items: list[Choice], prior: dict[str, Counter[str]]) -> dict[str, float]:
    """Random among the siblings, and each level-2 category's most common child among the catalogue's other items."""
    common = {p: counts.most_common(1)[0][0] for p, counts in prior.items() if counts}
    return {
        "random": sum(1 / len(c.options) for c in items) / len(items),
        "majority": sum(common.get(c.parent) == c.label for c in items) / len(items),
    }


def curate(items: list[Choice], teacher: list[str | None]) -> list[Example]:
    """The teacher's choices that agree with the catalogue's label, as training examples."""
    return [
        Example.model_validate({"task": "choice", "item": c.item, "messages": request(c), "answer": p})
        for c, p in zip(items, teacher)
        if p == c.label
    ]


def markdown(summary: dict[str, Any], tuned: dict[str, Any], evaluated: dict[str, Any], models: list[str]) -> str:
    info, gap = machine(), tuned["logit_gap"]
    lines = [
        "## Fine-tuning the embedded model on the teacher's checked choices (issue 35)",
        "",
        f"Command: `{command()}`  ",
        f"Machine: {info['cpu']}, {info['cores_available']} cores; {time.strftime('%Y-%m-%d')}",
        "",
        f"Teacher (Qwen2.5-Coder-1.5B) on {summary['teacher_items']} Beauty items: accuracy "
        f"{summary['teacher_acc_train']:.3f}; {summary['examples_kept']} kept as examples, split by item "
        f"{tuned['examples']}. LoRA (rank {tuned['config']['rank']}, {tuned['steps']} steps): validation loss "
        f"{tuned['valid_loss_before']:.3f} → {tuned['valid_loss_after']:.3f}. The merged GGUF against PyTorch: mean "
        f"|Δlogit| {gap['mean_abs']:.3f} (the base's own {tuned['base_logit_gap']['mean_abs']:.3f}), top-1 "
        f"agreement {gap['top1_agreement']:.3f}.",
        "",
        "Choice accuracy on held-out catalogues (calibrated option scores):",
        "",
        "| dataset | items | SmolLM2 | SmolLM2 tuned | Qwen-1.5B | random | majority |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in evaluated.items():
        lines.append(
            f"| {name} | {r['items']} | " + " | ".join(f"{r[m]:.3f}" for m in (*models, "random", "majority")) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher-items", type=int, default=1500)
    parser.add_argument("--eval-items", type=int, default=300)
    parser.add_argument("--train-data", nargs="+", default=["amazon-beauty"])
    parser.add_argument("--eval-data", nargs="+", default=["amazon-sports", "amazon-scientific"])
    parser.add_argument("--teacher", type=Path, default=QWEN, help="the capable model's GGUF")
    parser.add_argument("--runs", type=Path, default=Path("runs/benchmarks-finetune"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", dest="settings", nargs="*", default=[], help="fine-tuning settings key=value")
    args = parser.parse_args()
    started = time.perf_counter()
    args.runs.mkdir(parents=True, exist_ok=True)
    train_items = [c for name in args.train_data for c in choices(name, args.teacher_items, SEED)[0]]
    teacher_train = picks(args.teacher, train_items, args.runs / "teacher", args.threads)
    examples = curate(train_items, teacher_train)
    data = args.runs / "examples.jsonl"
    data.write_text("".join(e.model_dump_json() + "\n" for e in examples))
    import yaml

    settings = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.settings)}
    tuned = run_finetune(
        data, args.runs / "tuned", default_model_path(), FinetuneConfig(threads=args.threads, **settings)
    )
    models = {"smollm2": default_model_path(), "tuned": args.runs / "tuned" / MODEL, "qwen15": args.teacher}
    summary: dict[str, Any] = {
        "teacher_items": len(train_items),
        "teacher_acc_train": accuracy(train_items, teacher_train),
        "examples_kept": len(examples),
        "train_examples": tuned["examples"]["train"],
        "valid_loss_before": tuned["valid_loss_before"],
        "valid_loss_after": tuned["valid_loss_after"],
        "logit_gap_mean_abs": tuned["logit_gap"]["mean_abs"],
        "logit_gap_top1_agreement": tuned["logit_gap"]["top1_agreement"],
    }
    evaluated = {}
    for name in args.eval_data:
        items, prior = choices(name, args.eval_items, SEED)
        short = name.replace("amazon-", "")
        figures = {m: accuracy(items, picks(path, items, args.runs / f"{m}-eval", args.threads))
                   for m, path in models.items()}  # fmt: skip
        figures |= baselines(items, prior)
        evaluated[name] = {"items": len(items), **figures}
        summary |= {f"choice_acc_{m}_{short}": acc for m, acc in figures.items()}
    summary["wall_minutes"] = (time.perf_counter() - started) / 60
    protocol = {
        "task": "the tagger annotator's request: an item's level-3 category among its level-2 category's children, "
        "chosen by calibrated option scores",
        "train": f"{args.teacher_items} seeded items of {args.train_data}; the teacher's choices that match the label",
        "eval": f"{args.eval_items} seeded items of each of {args.eval_data} (no example came from them)",
        "finetune": tuned["config"],
        "tolerance": tuned["tolerance"],
    }
    save(NAME, {"evaluated": evaluated, "finetune": tuned}, protocol, summary=summary)
    update_section(NAME, markdown(summary, tuned, evaluated, list(models)))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
