"""`agenticrec llm finetune`: split curated examples by item, train a LoRA adapter on the base GGUF, merge it and
write a GGUF the embedded backend loads, kept only if llama.cpp's logits on it match PyTorch's."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agenticrec.errors import AgenticRecError, DataError
from agenticrec.finetune.config import FinetuneConfig
from agenticrec.finetune.examples import SPLITS, read_examples, split_by_item
from agenticrec.finetune.export import logit_gap, write_merged
from agenticrec.finetune.lora import load_base, prompt_ids, saved_state, train
from agenticrec.io import atomic_path, atomic_write_text, write_json

MODEL = "model.gguf"
SUMMARY = "finetune.json"
PROBES = 4  # prompts (validation first) whose logits are compared between llama.cpp and PyTorch
GAP_FACTOR = 2.0  # the merged model's logit gap may be at most this many times the base model's own
MIN_TOP1 = 0.9


def within_tolerance(gap: dict[str, float], base_gap: dict[str, float]) -> bool:
    """The merged GGUF agrees with the merged PyTorch model about as well as the base GGUF agrees with the base
    model it was dequantised into: mean |Δlogit| at most ``GAP_FACTOR`` times the base's, top-1 agreement at least
    ``MIN_TOP1``."""
    return gap["mean_abs"] <= GAP_FACTOR * base_gap["mean_abs"] and gap["top1_agreement"] >= MIN_TOP1


def run_finetune(examples_path: Path, out: Path, base: Path, config: FinetuneConfig) -> dict[str, Any]:
    started = time.perf_counter()
    if not base.is_file():
        raise DataError(f"no base GGUF at {base}")
    splits = split_by_item(read_examples(examples_path), config.valid_share, config.test_share)
    if not splits["train"]:
        raise DataError(f"{examples_path}: no example's item falls in the training split")
    per_task = Counter(e.task for e in splits["train"])
    scarce = {task: n for task, n in per_task.items() if n < config.min_examples_per_task}
    if scarce:
        counts = ", ".join(f"{task} {n}" for task, n in sorted(scarce.items()))
        raise DataError(
            f"{examples_path}: too few training examples per task ({counts}; at least "
            f"{config.min_examples_per_task}, min_examples_per_task); curate more, or leave the task out"
        )
    state = saved_state(out, splits["train"], config)  # one of other examples or settings: refused, nothing touched
    out.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:  # the held-out items, for evaluating the model on examples it never saw
        atomic_write_text(out / f"{name}.jsonl", "".join(e.model_dump_json() + "\n" for e in splits[name]))
    model, tokenizer = load_base(base)
    probes = [prompt_ids(tokenizer, e) for e in (splits["valid"] + splits["train"])[:PROBES]]
    base_gap = logit_gap(base, model, probes)
    model, losses = train(model, tokenizer, splits["train"], splits["valid"], config, out, state)
    merged = model.merge_and_unload()
    with atomic_path(out / MODEL) as tmp:
        replaced = write_merged(base, tmp, merged, config.targets, config.out_type)
        gap = logit_gap(tmp, merged, probes)
        if not within_tolerance(gap, base_gap):
            raise AgenticRecError(
                f"the merged GGUF's logits do not match PyTorch's ({json.dumps(gap)}; the base model's own gap: "
                f"{json.dumps(base_gap)}); nothing written"
            )
    summary = {
        "examples": {name: len(split) for name, split in splits.items()},
        "base": str(base),
        **losses,
        "layers_replaced": replaced,
        "logit_gap": gap,
        "base_logit_gap": base_gap,
        "tolerance": f"mean |Δlogit| ≤ {GAP_FACTOR} × the base GGUF's own gap to its dequantised PyTorch model, "
        f"top-1 agreement ≥ {MIN_TOP1}, over every position of {len(probes)} prompts",
        "config": config.model_dump(),
        "seconds": time.perf_counter() - started + (state.get("seconds", 0.0) if state else 0.0),  # with earlier runs
        "use": f"--set llm.backends.smollm2.model_path={out / MODEL}",
    }
    write_json(out / SUMMARY, summary)
    return summary
