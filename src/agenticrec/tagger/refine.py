"""Algorithm 2: split one node's items into child descriptors by multi-agent self-refinement.

1. The architect proposes ~n mutually exclusive children from a distilled sample: in one call over the
   K-medoids medoids (`joint`, the paper), or one short call naming each of n K-medoids groups
   (`per_cluster`, for small local models).
2. Up to C_max cycles: annotators assign the items (or report that none fits); the unassigned items are
   clustered, an annotator turns each cluster into a change proposal (create, expand, ignore as
   outliers), the architect approves or rejects each, and approved changes are applied. The loop stops
   early once coverage reaches the target or fewer than tau_anom items are left unassigned.

Items assigned in a cycle keep their label: later changes only add categories or widen descriptions, so
only the items still unassigned are annotated again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agenticrec.embed import kmedoids_indices
from agenticrec.errors import AgenticRecError
from agenticrec.tagger.agents import (
    TOKENS_PER_DESCRIPTOR,
    ProposedDescriptor,
    Review,
    change_model,
    change_request,
    name_group_request,
    proposal_model,
    propose_request,
    review_request,
)
from agenticrec.tagger.context import TaggerContext
from agenticrec.tagger.vocabulary import Descriptor


@dataclass
class SplitResult:
    children: list[Descriptor]  # unplaced: ids are given when they join the vocabulary
    members: list[list[int]]  # item positions per child
    stopped_by: str


def split_node(ctx: TaggerContext, node: str, parent: Descriptor | None, items: list[int], level: int) -> SplitResult:
    """Run Algorithm 2 on `items`, the members of `parent` (None = the root)."""
    cfg = ctx.tagger.build
    annotated = _subsample(ctx, node, items, cfg.max_items_per_split)
    ctx.log("split", node=node, level=level, items=len(items), annotated=len(annotated))
    categories = _initial_children(ctx, node, parent, annotated)
    labels: dict[int, list[int]] = {}
    outliers: set[int] = set()
    pending = annotated
    stopped_by = "max cycles"
    for cycle in range(1, cfg.max_cycles + 1):
        answers = ctx.label_items(
            "annotator",
            parent,
            categories,
            pending,
            allow_none=True,
            per_call=cfg.annotate_items_per_call,
            branching=cfg.branching,
        )
        labels.update({item: chosen for item, chosen in answers.items() if chosen})
        unassigned = [i for i in annotated if i not in labels and i not in outliers]
        coverage = len(labels) / len(annotated)
        ctx.log(
            "cycle",
            node=node,
            level=level,
            cycle=cycle,
            items=len(annotated),
            assigned=len(labels),
            unassigned=len(unassigned),
            outliers=len(outliers),
            coverage=coverage,
            descriptors=len(categories),
        )
        ctx.console.print(
            f"  split {node} (level {level}): cycle {cycle}, {len(categories)} descriptors, "
            f"coverage {coverage:.1%}, {len(unassigned)} unassigned"
        )
        if coverage >= cfg.stop_coverage:
            stopped_by = "coverage"
            break
        if len(unassigned) < cfg.anomaly_threshold:
            stopped_by = "anomaly threshold"
            break
        if cycle == cfg.max_cycles:
            break
        outliers |= _refine(ctx, node, parent, categories, unassigned, cycle)
        pending = [i for i in unassigned if i not in outliers]
        if not pending:
            stopped_by = "all unassigned items are outliers"
            break
    members = [[i for i in annotated if k in labels.get(i, ())] for k in range(len(categories))]
    kept = [k for k, m in enumerate(members) if m]
    ctx.log(
        "split_done",
        node=node,
        level=level,
        stopped_by=stopped_by,
        children=[{"name": categories[k].name, "item_count": len(members[k])} for k in kept],
        dropped_empty=[c.name for k, c in enumerate(categories) if k not in kept],
    )
    children = [categories[k].model_copy(update={"item_count": len(members[k])}) for k in kept]
    return SplitResult(children=children, members=[members[k] for k in kept], stopped_by=stopped_by)


def _subsample(ctx: TaggerContext, node: str, items: list[int], cap: int | None) -> list[int]:
    if cap is None or len(items) <= cap:
        return list(items)
    return sorted(ctx.rng("subsample", node).choice(items, cap, replace=False).tolist())


def _initial_children(ctx: TaggerContext, node: str, parent: Descriptor | None, items: list[int]) -> list[Descriptor]:
    cfg = ctx.tagger.build
    limit = ctx.tagger.max_text_chars
    if cfg.architect == "joint":
        picks = kmedoids_indices(ctx.embeddings[items], cfg.distill_samples, seed=ctx.seed)
        request = propose_request(parent, [ctx.texts[items[i]] for i in picks], cfg.initial_children, limit)
        budget = {"max_tokens": TOKENS_PER_DESCRIPTOR * cfg.max_children}
        result = ctx.client.batch(
            "architect", [request], proposal_model(2, cfg.max_children), params=budget, progress=False
        )[0]
        ctx.meter.add("architect", [result])
        if not result.ok:
            raise AgenticRecError(
                f"the architect gave no usable proposal for node {node} after {result.attempts} attempts: "
                f"{result.error} (small models do better with tagger.build.architect=per_cluster)"
            )
        categories = [d.descriptor() for d in result.value.descriptors]
    else:
        groups = _clusters(ctx, items, cfg.initial_children)
        requests = [
            name_group_request(parent, [ctx.texts[i] for i in g[: cfg.cluster_examples]], limit) for g in groups
        ]
        results = ctx.client.batch("architect", requests, ProposedDescriptor, progress=False)
        ctx.meter.add("architect", results)
        named = {}
        for result in results:
            if result.ok:
                named.setdefault(result.value.name.casefold(), result.value.descriptor())
        categories = list(named.values())
        if len(categories) < 2:
            raise AgenticRecError(
                f"the architect named fewer than two distinct groups for node {node} "
                f"({sum(r.ok for r in results)} of {len(results)} calls succeeded)"
            )
    ctx.log(
        "initial_proposal",
        node=node,
        children=[c.name for c in categories],
        descriptors=[c.model_dump(include={"name", "description", "includes", "excludes"}) for c in categories],
    )
    return categories


def _clusters(ctx: TaggerContext, items: list[int], k: int) -> list[list[int]]:
    """Group items around `k` K-medoids centres of their embeddings, each group led by its medoid."""
    k = min(k, len(items))
    vectors = ctx.embeddings[items]
    medoids = kmedoids_indices(vectors, k, seed=ctx.seed)
    similarity = vectors @ vectors[medoids].T
    nearest = np.argmax(similarity, axis=1)
    groups = []
    for c in range(len(medoids)):
        members = np.flatnonzero(nearest == c)
        groups.append([items[i] for i in members[np.argsort(-similarity[members, c], kind="stable")]])
    return groups


def _refine(
    ctx: TaggerContext,
    node: str,
    parent: Descriptor | None,
    categories: list[Descriptor],
    unassigned: list[int],
    cycle: int,
) -> set[int]:
    """One round of change proposals and reviews; edits `categories` in place, returns new outliers."""
    cfg = ctx.tagger.build
    limit = ctx.tagger.max_text_chars
    clusters = _clusters(ctx, unassigned, cfg.error_clusters)
    shown = [[ctx.texts[i] for i in cluster[: cfg.cluster_examples]] for cluster in clusters]
    names = [c.name for c in categories]
    results = ctx.client.batch(
        "annotator",
        [change_request(parent, categories, texts, limit) for texts in shown],
        change_model(names),
        progress=False,
    )
    ctx.meter.add("annotator", results)
    outliers: set[int] = set()
    for c, (cluster, texts, result) in enumerate(zip(clusters, shown, results)):
        where = {"node": node, "cycle": cycle, "cluster": c, "cluster_size": len(cluster)}
        proposal = result.value.model_dump() if result.ok else None
        problem = result.error if proposal is None else _problem(proposal, categories, cfg.max_children)
        ctx.log(
            "proposal",
            **where,
            action=proposal and proposal["action"],
            proposal=proposal,
            valid=problem is None,
            problem=problem,
        )
        if problem is not None:
            continue
        review = ctx.client.batch(
            "architect", [review_request(parent, categories, proposal, texts, limit)], Review, progress=False
        )[0]
        ctx.meter.add("architect", [review])
        approved = review.ok and review.value.approve
        reasoning = review.value.reasoning if review.ok else f"review failed: {review.error}"
        ctx.log("decision", node=node, cycle=cycle, cluster=c, approved=approved, reasoning=reasoning)
        if approved:
            outliers |= _apply(proposal, categories, cluster)
    return outliers


def _problem(proposal: dict, categories: list[Descriptor], max_children: int) -> str | None:
    """Why a well-formed proposal cannot be applied (None when it can)."""
    names = {c.name.casefold() for c in categories}
    action = proposal["action"]
    if action == "CREATE_NEW_CATEGORY":
        name = " ".join(proposal["name"].split())
        if not name or name.upper() == "NONE":
            return "a new category needs a name"
        if name.casefold() in names:
            return f"a category named {name!r} exists already"
        if not proposal["description"].strip():
            return "a new category needs a description"
        if len(categories) >= max_children:
            return f"this split has the maximum of {max_children} categories"
    if action == "EXPAND_EXISTING_CATEGORY":
        if not proposal["target"]:
            return "an expansion needs the target category"
        if not proposal["description"].strip():
            return "an expansion needs a refined description"
    return None


def _apply(proposal: dict, categories: list[Descriptor], cluster: list[int]) -> set[int]:
    action = proposal["action"]
    if action == "IGNORE_AS_OUTLIERS":
        return set(cluster)
    if action == "CREATE_NEW_CATEGORY":
        fields = {k: proposal[k] for k in ("description", "includes", "excludes")}
        categories.append(Descriptor(id="?", level=1, name=" ".join(proposal["name"].split()), **fields))
    else:
        k = next(i for i, c in enumerate(categories) if c.name == proposal["target"])
        old = categories[k]
        categories[k] = old.model_copy(
            update={
                "description": proposal["description"].strip(),
                "includes": list(dict.fromkeys([*old.includes, *proposal["includes"]])),
                "excludes": list(dict.fromkeys([*old.excludes, *proposal["excludes"]])),
            }
        )
    return set()
