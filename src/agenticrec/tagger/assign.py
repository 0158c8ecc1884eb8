"""Assignment: one descriptor per level for every item, top-down, each choice among the children of the
previous one, then a collision-resolver token so that every item has a unique semantic ID.

Two methods (config `tagger.assign.method`):
- `llm`: an annotator call per item and level, as in the paper (optionally several items per call);
- `classifier`: per split node, a logistic regression on item embeddings is trained on LLM labels (the
  labels annotators already gave while building, topped up with new ones) and labels the rest; the items
  it is least sure of are checked by the LLM. Its agreement with held-out LLM labels is measured.
Every LLM choice is constrained to the node's children; an item whose call failed falls back to the child
whose description embedding is nearest (counted as `fallback`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_path, write_json
from agenticrec.llm import LLMClient
from agenticrec.semantic_ids import SemanticIDs, catalogue_key, save_semantic_ids
from agenticrec.tagger import artifacts
from agenticrec.tagger.classifier import fit_predict
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.context import TaggerContext, open_context
from agenticrec.tagger.quality import vocabulary_quality
from agenticrec.tagger.vocabulary import Descriptor, Vocabulary

Choice = dict[int, tuple[int, str]]  # item position -> (child position, source)
DEGENERATE_SHARE = 0.5  # one path holding more of the catalogue than this makes the IDs near-useless

log = logging.getLogger(__name__)


class _Tally:
    """Where the assignment's labels came from, and how well the classifier agreed with the LLM."""

    def __init__(self) -> None:
        self.sources: Counter[str] = Counter()
        self.heldout = 0
        self.heldout_agree = 0
        self.checked = 0
        self.check_changed = 0
        self.share_gaps: list[float] = []
        self.rebalanced: list[dict[str, Any]] = []

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": dict(self.sources),
            "classifier_heldout_items": self.heldout,
            "classifier_agreement": self.heldout_agree / self.heldout if self.heldout else None,
            "checked_items": self.checked,
            "check_changed_share": self.check_changed / self.checked if self.checked else None,
            "largest_share_gap": max(self.share_gaps, default=None),
            "rebalanced_nodes": self.rebalanced,
        }


def assign_paths(
    ctx: TaggerContext, vocabulary: Vocabulary, members: dict[str, list[int]]
) -> tuple[list[list[Descriptor]], list[list[str]], dict[str, Any]]:
    """Descriptor path and per-level label source of every item."""
    n = len(ctx.texts)
    paths: list[list[Descriptor]] = [[] for _ in range(n)]
    sources: list[list[str]] = [[] for _ in range(n)]
    tally = _Tally()
    frontier: dict[str | None, list[int]] = {None: list(range(n))}
    for _level in range(1, vocabulary.depth() + 1):
        next_frontier: dict[str | None, list[int]] = defaultdict(list)
        for node, items in frontier.items():
            children = vocabulary.children(node)
            if not children:
                continue
            parent = None if node is None else vocabulary.get(node)
            choice = _choose(ctx, node or "root", parent, children, items, members, tally)
            for item in items:
                k, source = choice[item]
                paths[item].append(children[k])
                sources[item].append(source)
                tally.sources[source] += 1
                next_frontier[children[k].id].append(item)
        frontier = next_frontier
    return paths, sources, tally.as_dict()


def _choose(
    ctx: TaggerContext,
    node: str,
    parent: Descriptor | None,
    children: list[Descriptor],
    items: list[int],
    members: dict[str, list[int]],
    tally: _Tally,
) -> Choice:
    if len(children) == 1:
        return {i: (0, "only") for i in items}
    cfg = ctx.tagger.assign
    if cfg.method == "llm":
        return _llm_choice(ctx, parent, children, items, "llm")
    known: Choice = {}
    if cfg.reuse_build_labels:
        in_node = set(items)
        owners: dict[int, list[int]] = defaultdict(list)
        for k, child in enumerate(children):
            for i in members.get(child.id, ()):
                if i in in_node:
                    owners[i].append(k)
        known = {i: (ks[0], "build") for i, ks in owners.items() if len(ks) == 1}
    unknown = [i for i in items if i not in known]
    wanted = min(cfg.labels_per_child * len(children) - len(known), len(unknown))
    if wanted > 0:
        sample = sorted(ctx.rng("assign-sample", node).choice(unknown, wanted, replace=False).tolist())
        known |= _llm_choice(ctx, parent, children, sample, "llm")
    _measure_agreement(ctx, node, known, tally)
    rest = [i for i in items if i not in known]
    if not rest:
        return known
    predicted, confidence = _classify(ctx, children, known, rest)
    gap = _share_gap(len(children), known, known | predicted)
    tally.share_gaps.append(gap)
    if gap > cfg.max_share_gap and predicted and next(iter(predicted.values()))[1] == "classifier":
        predicted, confidence = _classify(ctx, children, known, rest, follow_labelled_shares=True)
        after = _share_gap(len(children), known, known | predicted)
        tally.rebalanced.append({"node": node, "gap_before": gap, "gap_after": after})
        log.info(
            "node %s: routed shares were %.0f%% off the labelled ones; rebalanced to %.0f%%",
            node,
            100 * gap,
            100 * after,
        )
    order = np.argsort(confidence, kind="stable")
    budget = math.ceil(cfg.max_check_share * len(rest))
    unsure = [rest[j] for j in order[:budget] if confidence[j] < cfg.check_below]
    checked = _llm_choice(ctx, parent, children, unsure, "check") if unsure else {}
    tally.checked += len(checked)
    tally.check_changed += sum(checked[i][0] != predicted[i][0] for i in checked)
    return known | predicted | checked


def _shares(choice: Choice, children: int) -> np.ndarray:
    counts = np.bincount([k for k, _ in choice.values()], minlength=children)
    return counts / max(counts.sum(), 1)


def _share_gap(children: int, labelled: Choice, routed: Choice) -> float:
    """Largest difference between a child's share among the labelled items and its share after routing: a
    router that amplifies the majority shows up here."""
    return float(np.abs(_shares(labelled, children) - _shares(routed, children)).max())


def _measure_agreement(ctx: TaggerContext, node: str, known: Choice, tally: _Tally) -> None:
    """Train on a seeded 80% of the LLM-labelled items and count agreement on the other 20%."""
    labelled = sorted(known)
    y = np.array([known[i][0] for i in labelled])
    held = ctx.rng("assign-heldout", node).random(len(labelled)) < 0.2
    if len(labelled) < 10 or not held.any() or len(set(y[~held].tolist())) < 2:
        return
    x = ctx.embeddings[labelled]
    predicted, _ = fit_predict(x[~held], y[~held], x[held])
    tally.heldout += int(held.sum())
    tally.heldout_agree += int((predicted == y[held]).sum())


def _classify(
    ctx: TaggerContext, children: list[Descriptor], known: Choice, rest: list[int], follow_labelled_shares: bool = False
) -> tuple[Choice, np.ndarray]:
    """Logistic regression on embeddings of the labelled items; description similarity when it cannot train
    (fewer than two labelled classes), with zero confidence so those items are checked first.

    `follow_labelled_shares`: the unlabelled items are spread so that every child ends with its share among the
    labelled items (which are a random sample of the node)."""
    labelled = sorted(known)
    y = np.array([known[i][0] for i in labelled])
    if len(set(y.tolist())) < 2:
        scores = _card_similarity(ctx, children, rest)
        return {i: (int(k), "similarity") for i, k in zip(rest, scores.argmax(1))}, np.zeros(len(rest))
    shares = None
    if follow_labelled_shares:
        present = np.unique(y)
        counts = np.bincount(y, minlength=len(children))[present]
        wanted = counts / counts.sum() * (len(known) + len(rest)) - counts
        shares = np.clip(wanted, 0, None) + 1e-6
    picks, confidence = fit_predict(ctx.embeddings[labelled], y, ctx.embeddings[rest], shares)
    return {i: (int(k), "classifier") for i, k in zip(rest, picks)}, confidence


def _llm_choice(
    ctx: TaggerContext, parent: Descriptor | None, children: list[Descriptor], items: list[int], source: str
) -> Choice:
    answers = ctx.label_items(parent, children, items, allow_none=False, per_call=ctx.tagger.assign.items_per_call)
    choice = {i: (ks[0], source) for i, ks in answers.items() if ks}
    failed = [i for i in items if i not in choice]
    if failed:
        scores = _card_similarity(ctx, children, failed)
        choice |= {i: (int(k), "fallback") for i, k in zip(failed, scores.argmax(1))}
    return choice


def _card_similarity(ctx: TaggerContext, children: list[Descriptor], items: list[int]) -> np.ndarray:
    cards = embed_texts(
        [c.card() for c in children], ctx.tagger.embedding_model, cache_dir=ctx.run_dir / "cache", progress=False
    )
    return ctx.embeddings[items] @ cards.T


def descriptor_ids(item_ids: list[str], paths: list[list[Descriptor]]) -> SemanticIDs:
    """The descriptor paths as semantic IDs (descriptor ids as tokens, names as labels), with their resolvers."""
    return SemanticIDs.from_paths(
        "descriptors",
        [[d.id for d in p] for p in paths],
        [[d.name for d in p] for p in paths],
        catalogue=catalogue_key(item_ids),
    )


def assignment_table(item_ids: list[str], ids: SemanticIDs, sources: list[list[str]]) -> pd.DataFrame:
    """One row per item with its descriptor path, label sources and the resolver token unique among items sharing
    the path."""
    return pd.DataFrame(
        {
            "item_id": item_ids,
            "item_index": np.arange(1, len(item_ids) + 1),
            "descriptor_ids": [list(p) for p in ids.paths],
            "descriptor_names": [list(n) for n in ids.names],
            "sources": sources,
            "resolver": ids.resolvers,
            "semantic_id": [f"{p[-1] if p else 'root'}#{r}" for p, r in zip(ids.paths, ids.resolvers)],
        }
    )


def collision_figures(table: pd.DataFrame) -> dict[str, Any]:
    """Distinct descriptor paths, share of items sharing their path with another item, largest bucket."""
    buckets = Counter(tuple(p) for p in table["descriptor_ids"])
    shared = sum(size for size in buckets.values() if size > 1)
    return {
        "distinct_paths": len(buckets),
        "collision_rate": shared / len(table) if len(table) else None,
        "largest_bucket": max(buckets.values(), default=0),
    }


def degeneracy_warning(figures: dict[str, Any], items: int) -> str | None:
    """A warning when one descriptor path holds most of the catalogue, so the paths barely tell items apart."""
    largest = figures["largest_bucket"]
    if not items or largest / items <= DEGENERATE_SHARE:
        return None
    return (
        f"one descriptor path holds {largest} of {items} items ({largest / items:.0%}): these semantic IDs barely "
        "tell items apart, and their resolver token carries most of each item's identity. The annotator LLM is "
        "most likely too weak to choose (SmolLM2-135M does this): use tagger.build.labels=groups, or configure a "
        "stronger model under llm.backends."
    )


def run_assign(dataset: Dataset, config: TaggerConfig, client: LLMClient, run_dir: Path, seed: int) -> pd.DataFrame:
    """The `tag assign` stage: writes the assignments table, publishes the descriptor paths as semantic IDs
    (``RUN_DIR/semantic_ids/descriptors.parquet``) and writes a cost and quality summary."""
    out = artifacts.tagger_dir(run_dir)
    vocabulary = Vocabulary.load(out / artifacts.VOCABULARY)
    if vocabulary.dataset != dataset.name or vocabulary.n_items != dataset.n_items:
        raise AgenticRecError(
            f"the vocabulary in {out} was built for {vocabulary.dataset} ({vocabulary.n_items} items), "
            f"not {dataset.name} ({dataset.n_items} items)"
        )
    started = time.perf_counter()
    ctx = open_context(dataset, config, client, run_dir, seed)
    position = {item_id: i for i, item_id in enumerate(ctx.item_ids)}
    stored = artifacts.read_json(run_dir, artifacts.BUILD_MEMBERS)
    members = {d: [position[i] for i in ids] for d, ids in stored.items()}
    paths, sources, labelling = assign_paths(ctx, vocabulary, members)
    ids = descriptor_ids(ctx.item_ids, paths)
    table = assignment_table(ctx.item_ids, ids, sources)
    with atomic_path(out / artifacts.ASSIGNMENTS) as tmp:
        table.to_parquet(tmp, index=False)
    save_semantic_ids(ids, run_dir)
    figures = collision_figures(table)
    if warning := degeneracy_warning(figures, len(table)):
        log.warning(warning)
    write_json(
        out / artifacts.ASSIGN_SUMMARY,
        {
            "dataset": dataset.name,
            "method": config.assign.method,
            "items": len(table),
            "wall_seconds": time.perf_counter() - started,
            "llm": ctx.client.usage.as_dict(),
            **labelling,
            **figures,
            "quality": vocabulary_quality(vocabulary, table, ctx.texts, dataset.items.get("categories")),
            "config": config.assign.model_dump(),
        },
    )
    return table
