"""Algorithm 2: split one node's items into child descriptors by multi-agent self-refinement.

1. The architect proposes ~n mutually exclusive children from a distilled sample: in one call over the
   K-medoids medoids (`joint`, the paper), or (`grouped`) in one call naming n K-medoids groups from each
   group's keyphrases and typical titles, every name checked against that evidence (grounding.py),
   re-asked with the reason, and replaced by the group's best keyphrase when the model keeps failing.
   Items whose text reads like instructions to a model are never shown to the architect.
2. With `labels=groups` the groups label the sample and the split is done (for models too small to
   choose reliably). Otherwise, up to C_max cycles: annotators assign the items (or report that none fits:
   an annotator choosing by scores does so when the model gives its pick less than `min_choice_share` probability);
   the unassigned items are clustered, an annotator turns each cluster into a change proposal (create,
   expand, ignore as outliers; a new name is held to the checks of a group's name), or, with the grouped
   architect, each cluster is named like a group and proposed as a new category; the architect approves or
   rejects each (or, with `review=annotators`, the annotators do by labelling the cluster again with the change
   applied), and approved changes are applied. The loop stops early once coverage reaches the target or fewer
   than tau_anom items are left unassigned.

Items assigned in a cycle keep their label: later changes only add categories or widen descriptions, so
only the items still unassigned are annotated again. A split whose largest child holds more than
`max_child_share` of the labelled sample is logged as unbalanced; with the grouped architect its labels
are then replaced by the groups'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agenticrec.embed import kmedoids_indices
from agenticrec.embed.distill import kmedoids_groups
from agenticrec.errors import AgenticRecError
from agenticrec.tagger.agents import (
    ANNOTATOR,
    ARCHITECT,
    TOKENS_PER_DESCRIPTOR,
    ProposedDescriptor,
    Review,
    change_model,
    change_request,
    name_group_request,
    name_groups_request,
    proposal_model,
    propose_request,
    review_request,
)
from agenticrec.tagger.config import BuildConfig
from agenticrec.tagger.context import TaggerContext
from agenticrec.tagger.grounding import (
    GroupEvidence,
    fallback_name,
    instruction_like,
    keyphrases,
    name_problem,
    title_of,
)
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
    if cfg.architect == "grouped":
        categories, groups = _grouped_children(ctx, node, parent, annotated)
        group_labels = {i: [k] for k, group in enumerate(groups) for i in group}
    else:
        categories, group_labels = _initial_children(ctx, node, parent, annotated), {}
    if cfg.labels == "groups":
        labels, stopped_by = group_labels, "labels from groups"
        ctx.log(
            "cycle",
            node=node,
            level=level,
            cycle=0,
            items=len(annotated),
            assigned=len(labels),
            unassigned=len(annotated) - len(labels),
            outliers=0,
            coverage=len(labels) / len(annotated),
            descriptors=len(categories),
        )
    else:
        labels, stopped_by = _annotate(ctx, node, parent, level, categories, annotated)
    largest = _largest_share(labels, len(categories))
    if largest > cfg.max_child_share:
        replaced = bool(group_labels) and labels is not group_labels
        ctx.log("unbalanced", node=node, level=level, largest_share=largest, replaced_by_groups=replaced)
        ctx.console.print(
            f"  split {node}: one child holds {largest:.0%} of the labels"
            + ("; using the groups' labels instead" if replaced else "")
        )
        if replaced:
            labels = group_labels
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


def _annotate(
    ctx: TaggerContext,
    node: str,
    parent: Descriptor | None,
    level: int,
    categories: list[Descriptor],
    annotated: list[int],
) -> tuple[dict[int, list[int]], str]:
    """The refinement cycles: annotators label, change proposals for what stays unassigned, reviews."""
    cfg = ctx.tagger.build
    labels: dict[int, list[int]] = {}
    outliers: set[int] = set()
    pending = annotated
    stopped_by = "max cycles"
    for cycle in range(1, cfg.max_cycles + 1):
        answers = ctx.label_items(
            parent,
            categories,
            pending,
            allow_none=True,
            per_call=cfg.annotate_items_per_call,
            branching=cfg.branching,
            min_share=cfg.min_choice_share,
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
            return labels, "coverage"
        if len(unassigned) < cfg.anomaly_threshold:
            return labels, "anomaly threshold"
        if cycle == cfg.max_cycles:
            break
        outliers |= _refine(ctx, node, parent, categories, unassigned, cycle)
        pending = [i for i in unassigned if i not in outliers]
        if not pending:
            return labels, "all unassigned items are outliers"
    return labels, stopped_by


def _largest_share(labels: dict[int, list[int]], children: int) -> float:
    counts = np.bincount([k for chosen in labels.values() for k in chosen], minlength=children)
    return float(counts.max() / counts.sum()) if counts.sum() else 0.0


def _subsample(ctx: TaggerContext, node: str, items: list[int], cap: int | None) -> list[int]:
    if cap is None or len(items) <= cap:
        return list(items)
    return sorted(ctx.rng("subsample", node).choice(items, cap, replace=False).tolist())


def _initial_children(ctx: TaggerContext, node: str, parent: Descriptor | None, items: list[int]) -> list[Descriptor]:
    """The paper's proposal: one architect call over a K-medoids sample of the node's (unflagged) items."""
    cfg = ctx.tagger.build
    shown = [i for i in items if not ctx.flagged[i]]
    picks = kmedoids_indices(ctx.embeddings[shown], cfg.distill_samples, seed=ctx.seed)
    request = propose_request(
        parent, [ctx.texts[shown[i]] for i in picks], cfg.initial_children, ctx.tagger.max_text_chars
    )
    budget = {"max_tokens": TOKENS_PER_DESCRIPTOR * cfg.max_children}
    [result] = ctx.client.batch(
        ARCHITECT, [request], proposal_model(2, cfg.max_children), params=budget, progress=False
    )
    if result.value is None:
        raise AgenticRecError(
            f"the architect gave no usable proposal for node {node} after {result.attempts} attempts: "
            f"{result.error} (small models do better with tagger.build.architect=grouped)"
        )
    categories = [d.descriptor() for d in result.value.descriptors]
    _log_proposal(ctx, node, categories)
    return categories


def _grouped_children(
    ctx: TaggerContext, node: str, parent: Descriptor | None, items: list[int]
) -> tuple[list[Descriptor], list[list[int]]]:
    """Name K-medoids groups of the node's unflagged items from their evidence; returns the named categories
    and the members of each (a group no name could be found for is dropped, its items left to the router)."""
    groups = [
        g for g in _clusters(ctx, [i for i in items if not ctx.flagged[i]], ctx.tagger.build.initial_children) if g
    ]
    named = _name_groups(ctx, node, parent, groups, existing=[])
    categories = [d for d in named if d is not None]
    _log_proposal(ctx, node, categories)
    return categories, [g for g, d in zip(groups, named) if d is not None]


def _name_groups(
    ctx: TaggerContext, node: str, parent: Descriptor | None, groups: list[list[int]], existing: list[str]
) -> list[Descriptor | None]:
    """A checked name per group, from one architect call over all groups' evidence, re-asked with the reason, else
    the group's best keyphrase; None where no name could be found. No name may repeat one in `existing`."""
    cfg = ctx.tagger.build
    evidence = _evidence(ctx, groups)
    budget = {"max_tokens": TOKENS_PER_DESCRIPTOR * len(groups)}
    [joint] = ctx.client.batch(
        ARCHITECT,
        [name_groups_request(parent, evidence, existing)],
        proposal_model(len(groups), len(groups)),
        params=budget,
        progress=False,
    )
    proposals: list[ProposedDescriptor | None] = (
        list(joint.value.descriptors) if joint.value is not None else [None] * len(groups)
    )
    named: list[Descriptor | None] = [None] * len(groups)
    above = [*existing, *([parent.name] if parent is not None else [])]  # a child named like its parent says nothing

    def taken() -> list[str]:
        return above + [d.name for d in named if d is not None]

    reasons = [joint.error or "no answer"] * len(groups)
    for attempt in range(cfg.naming_retries + 1):
        if attempt:
            retry = [k for k in range(len(groups)) if named[k] is None]
            if not retry:
                break
            requests = [
                name_group_request(parent, evidence[k], taken(), _name(proposals[k]), reasons[k]) for k in retry
            ]
            for k, result in zip(retry, ctx.client.batch(ARCHITECT, requests, ProposedDescriptor, progress=False)):
                proposals[k] = result.value
                reasons[k] = result.error or reasons[k]
        for k, proposal in enumerate(proposals):
            if named[k] is not None or proposal is None:
                continue
            problem = name_problem(proposal.name, proposal.description, evidence[k], taken())
            ctx.log("naming", node=node, group=k, attempt=attempt, name=proposal.name,
                    problem=problem and problem.message, problem_kind=problem and problem.kind)  # fmt: skip
            if problem is None:
                named[k] = proposal.descriptor()
            else:
                reasons[k] = problem.message
    for k in range(len(groups)):
        if named[k] is None:
            name = fallback_name(evidence[k], taken())
            ctx.log("naming_fallback", node=node, group=k, name=name, reason=reasons[k])
            if name is not None:
                shared = ", ".join(evidence[k].keyphrases[:4])
                named[k] = Descriptor(
                    id="?", level=1, name=name, description=f"Items whose text often mentions {shared}."
                )
    return named


def _evidence(ctx: TaggerContext, groups: list[list[int]]) -> list[GroupEvidence]:
    """Each group's keyphrases (against the other groups), its first members' titles and all its texts."""
    cfg = ctx.tagger.build
    phrases = keyphrases([[ctx.texts[i] for i in g] for g in groups], top=cfg.keyphrases)
    return [
        GroupEvidence(p, [title_of(ctx.texts[i]) for i in g[: cfg.cluster_examples]], [ctx.texts[i] for i in g])
        for g, p in zip(groups, phrases)
    ]


def _name(proposal: ProposedDescriptor | None) -> str:
    return proposal.name if proposal is not None else "(none)"


def _log_proposal(ctx: TaggerContext, node: str, categories: list[Descriptor]) -> None:
    ctx.log(
        "initial_proposal",
        node=node,
        children=[c.name for c in categories],
        descriptors=[c.model_dump(include={"name", "description", "includes", "excludes"}) for c in categories],
    )


def _clusters(ctx: TaggerContext, items: list[int], k: int) -> list[list[int]]:
    """Group items around `k` K-medoids centres of their embeddings, each group led by its medoid."""
    groups = kmedoids_groups(ctx.embeddings[items], min(k, len(items)), seed=ctx.seed)
    return [[items[i] for i in members] for members in groups]


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
    evidence = [i for i in unassigned if not ctx.flagged[i]]
    if not evidence:
        return set()
    clusters = _clusters(ctx, evidence, cfg.error_clusters)
    shown = [[ctx.texts[i] for i in cluster[: cfg.cluster_examples]] for cluster in clusters]
    outliers: set[int] = set()
    for c, (cluster, texts, (proposal, problem)) in enumerate(
        zip(clusters, shown, _proposals(ctx, node, parent, categories, clusters, shown))
    ):
        where = {"node": node, "cycle": cycle, "cluster": c, "cluster_size": len(cluster)}
        ctx.log(
            "proposal",
            **where,
            action=proposal and proposal["action"],
            proposal=proposal,
            valid=problem is None,
            problem=problem,
        )
        if problem is not None or proposal is None:
            continue
        if cfg.review == "annotators" and proposal["action"] != "IGNORE_AS_OUTLIERS":
            approved, reasoning = _annotators_review(ctx, parent, categories, proposal, cluster)
        else:
            review = ctx.client.batch(
                ARCHITECT, [review_request(parent, categories, proposal, texts, limit)], Review, progress=False
            )[0]
            verdict = review.value
            approved = verdict is not None and verdict.approve
            reasoning = verdict.reasoning if verdict is not None else f"review failed: {review.error}"
        ctx.log("decision", node=node, cycle=cycle, cluster=c, approved=approved, reasoning=reasoning)
        if approved:
            outliers |= _apply(proposal, categories, cluster)
    return outliers


def _proposals(
    ctx: TaggerContext,
    node: str,
    parent: Descriptor | None,
    categories: list[Descriptor],
    clusters: list[list[int]],
    shown: list[list[str]],
) -> list[tuple[dict | None, str | None]]:
    """A change proposal per cluster of unassigned items, and why it cannot be applied (None when it can).

    With the grouped architect each cluster is named like a group (checked names, else the best keyphrase) and
    proposed as a new category; otherwise an annotator writes the change, and a new name is held to the same
    checks against the cluster's evidence."""
    cfg = ctx.tagger.build
    found: list[tuple[dict | None, str | None]] = []
    if cfg.architect == "grouped":
        for named in _name_groups(ctx, node, parent, clusters, existing=[c.name for c in categories]):
            if named is None:
                found.append((None, "no name passed the checks and every keyphrase repeats a category"))
            else:
                proposal = _creation(named)
                found.append((proposal, _problem(proposal, categories, None, parent, cfg)))
        return found
    results = ctx.client.batch(
        ANNOTATOR,
        [change_request(parent, categories, texts, ctx.tagger.max_text_chars) for texts in shown],
        change_model([c.name for c in categories]),
        progress=False,
    )
    for evidence, result in zip(_evidence(ctx, clusters), results):
        if result.value is None:
            found.append((None, result.error))
        else:
            proposal = result.value.model_dump()
            found.append((proposal, _problem(proposal, categories, evidence, parent, cfg)))
    return found


def _creation(descriptor: Descriptor) -> dict:
    """A named cluster as a CREATE_NEW_CATEGORY proposal."""
    fields = descriptor.model_dump(include={"name", "description", "includes", "excludes"})
    return {"action": "CREATE_NEW_CATEGORY", "target": "", "reasoning": "a group of unassigned items", **fields}


def _annotators_review(
    ctx: TaggerContext, parent: Descriptor | None, categories: list[Descriptor], proposal: dict, cluster: list[int]
) -> tuple[bool, str]:
    """Approve a change when the annotators, labelling the cluster again with the change applied, put at least half
    of its items under the new or widened category (with the build's `min_choice_share`)."""
    trial = list(categories)
    _apply(proposal, trial, cluster)
    changed = len(trial) - 1 if proposal["action"] == "CREATE_NEW_CATEGORY" else _index_of(trial, proposal["target"])
    answers = ctx.label_items(parent, trial, cluster, allow_none=True, min_share=ctx.tagger.build.min_choice_share)
    joined = sum(answers.get(i) == [changed] for i in cluster)
    reasoning = f"the annotators put {joined} of the cluster's {len(cluster)} items under {trial[changed].name!r}"
    return 2 * joined >= len(cluster), reasoning


def _index_of(categories: list[Descriptor], name: str) -> int:
    return next(k for k, c in enumerate(categories) if c.name == name)


def _problem(
    proposal: dict,
    categories: list[Descriptor],
    evidence: GroupEvidence | None,
    parent: Descriptor | None,
    cfg: BuildConfig,
) -> str | None:
    """Why a well-formed proposal cannot be applied (None when it can). With `evidence`, a new category's name is
    held to the checks of a group's name (`grounding.name_problem`) against the cluster's evidence."""
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
        if instruction_like(f"{name} {proposal['description']}"):
            return "the new category reads like an instruction, not a description of items"
        if len(categories) >= cfg.max_children:
            return f"this split has the maximum of {cfg.max_children} categories"
        siblings = [c.name for c in categories] + ([parent.name] if parent is not None else [])
        if evidence is not None and (found := name_problem(name, proposal["description"], evidence, siblings)):
            return found.message
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
        k = _index_of(categories, proposal["target"])
        old = categories[k]
        categories[k] = old.model_copy(
            update={
                "description": proposal["description"].strip(),
                "includes": list(dict.fromkeys([*old.includes, *proposal["includes"]])),
                "excludes": list(dict.fromkeys([*old.excludes, *proposal["excludes"]])),
            }
        )
    return set()
