"""Algorithm 1: build the descriptor vocabulary top-down, splitting every large-enough descriptor.

The queue starts with the root (all items). At each depth every queued node whose item set reaches the
split threshold is split by Algorithm 2 (`refine.split_node`); its children form the next queue. Items
the annotators did not label (outside the subsample, or fitting no child) are routed to a child by a
classifier trained on the annotators' labels, so every level sees whole groups; only the LLM labels are
kept for assignment. Reruns replay every finished LLM call from the ledger, so an interrupted
build resumes where it stopped without paying twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.io import write_json
from agenticrec.llm import LLMClient
from agenticrec.tagger import artifacts
from agenticrec.tagger.classifier import fit_predict
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.context import TaggerContext, open_context
from agenticrec.tagger.refine import split_node
from agenticrec.tagger.vocabulary import Vocabulary


def build_vocabulary(ctx: TaggerContext, dataset: str) -> tuple[Vocabulary, dict[str, list[int]]]:
    """Algorithm 1; returns the vocabulary and the item positions annotated into each descriptor."""
    cfg = ctx.tagger.build
    n = len(ctx.texts)
    if n < cfg.split_threshold:
        raise AgenticRecError(f"{dataset} has {n} items, fewer than the split threshold {cfg.split_threshold}")
    vocabulary = Vocabulary(dataset=dataset, n_items=n)
    members: dict[str, list[int]] = {}
    queue: list[tuple[str | None, list[int]]] = [(None, list(range(n)))]
    for level in range(1, cfg.max_depth + 1):
        next_queue: list[tuple[str | None, list[int]]] = []
        for parent_id, items in queue:
            if len(items) < cfg.split_threshold:
                continue
            parent = None if parent_id is None else vocabulary.get(parent_id)
            result = split_node(ctx, parent_id or "root", parent, items, level)
            routed = _route(ctx, items, result.members)
            counted = [child.model_copy(update={"item_count": len(r)}) for child, r in zip(result.children, routed)]
            for child, labelled, child_items in zip(
                vocabulary.add_children(parent_id, counted), result.members, routed
            ):
                members[child.id] = labelled
                next_queue.append((child.id, child_items))
        queue = next_queue
    return vocabulary, members


def _route(ctx: TaggerContext, items: list[int], labelled: list[list[int]]) -> list[list[int]]:
    """Every item of the node in the children: the LLM's labels, and for items without one (not in the
    subsample, or reported as fitting nothing) the classifier's choice, so deeper levels see whole groups."""
    owner = {i: k for k, child_items in enumerate(labelled) for i in child_items}
    rest = [i for i in items if i not in owner]
    routed = [list(child_items) for child_items in labelled]
    if rest:
        train = sorted(owner)
        picks, _ = fit_predict(ctx.embeddings[train], np.array([owner[i] for i in train]), ctx.embeddings[rest])
        for i, k in zip(rest, picks):
            routed[int(k)].append(i)
    return [sorted(set(r)) for r in routed]


def naming_figures(events: list[dict[str, Any]]) -> dict[str, int]:
    """How the grouped architect's names fared: checked, rejected by a check, replaced by a keyphrase, and
    groups dropped for want of any name."""
    checked = [e for e in events if e["event"] == "naming"]
    fallbacks = [e for e in events if e["event"] == "naming_fallback"]
    return {
        "names_checked": len(checked),
        "names_rejected": sum(e["problem"] is not None for e in checked),
        "keyphrase_fallbacks": sum(e["name"] is not None for e in fallbacks),
        "groups_dropped": sum(e["name"] is None for e in fallbacks),
    }


def name_failures(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Names rejected by a check, per kind of problem: how many, and the first one with its message."""
    failures: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["event"] == "naming" and e["problem"] is not None:
            kind = failures.setdefault(e.get("problem_kind") or "other", {"count": 0, "example": e["name"],
                                                                          "problem": e["problem"]})  # fmt: skip
            kind["count"] += 1
    return failures


def run_build(dataset: Dataset, config: TaggerConfig, client: LLMClient, run_dir: Path, seed: int) -> Vocabulary:
    """The `tag build` stage: writes the vocabulary, the build log, the members and a cost summary."""
    out = artifacts.tagger_dir(run_dir)
    started = time.perf_counter()
    ctx = open_context(dataset, config, client, run_dir, seed)
    try:
        vocabulary, members = build_vocabulary(ctx, dataset.name)
    finally:
        ctx.write_log(out / artifacts.BUILD_LOG)
    vocabulary.save(out / artifacts.VOCABULARY)
    write_json(out / artifacts.BUILD_MEMBERS, {d: [ctx.item_ids[i] for i in items] for d, items in members.items()})
    write_json(
        out / artifacts.BUILD_SUMMARY,
        {
            "dataset": dataset.name,
            "items": len(ctx.texts),
            "wall_seconds": time.perf_counter() - started,
            "vocabulary_size": len(vocabulary.descriptors),
            "size_per_level": vocabulary.size_per_level(),
            "splits": sum(1 for e in ctx.events if e["event"] == "split"),
            "unbalanced_splits": sum(1 for e in ctx.events if e["event"] == "unbalanced"),
            "naming": naming_figures(ctx.events),
            "name_failures": name_failures(ctx.events),
            "flagged_items": [item for item, flagged in zip(ctx.item_ids, ctx.flagged) if flagged],
            "llm": ctx.client.usage.as_dict(),
            "config": config.build.model_dump(),
        },
    )
    return vocabulary
