"""The intent stage: compress the sampled users' histories, mine their interests, predict tags, and evaluate
the tags by HR@K against category baselines. Each step reads the previous step's artifact, so each can be re-run
alone; LLM calls are answered from the ledger on a re-run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts
from agenticrec.intent.config import INTEREST_MINER, TAG_PREDICTOR, IntentConfig
from agenticrec.intent.history import History, compress, fit_lines, uncompressed, user_history
from agenticrec.intent.hitrate import CategoryMapper, CategoryPriors, distinct, hit_at
from agenticrec.intent.items import leaf, llm_names, template_names
from agenticrec.intent.mining import Interest, grounded_interests, mine_interests, predict_tags, rank_tags
from agenticrec.intent.retrieval import tar_with_predicted_tags
from agenticrec.io import write_json
from agenticrec.llm import LLMClient
from agenticrec.tagger import artifacts as tagger_artifacts
from agenticrec.tagger.vocabulary import Vocabulary


def sample_users(dataset: Dataset, users: int, seed: int) -> np.ndarray:
    """A seeded sample of user positions (sorted); every user when ``users`` covers them all."""
    if users >= dataset.n_users:
        return np.arange(dataset.n_users)
    return np.sort(np.random.default_rng(seed).permutation(dataset.n_users)[:users])


def test_history(dataset: Dataset, user: int, config: IntentConfig) -> History:
    """Everything before the user's held-out test item."""
    return user_history(dataset, user, len(dataset.sequences[user]) - 1, config)


def item_names(dataset: Dataset, config: IntentConfig, client: LLMClient, items: list[int]) -> dict[int, str]:
    if config.llm_item_compression:
        return llm_names(dataset, config, client, items)
    return template_names(dataset, config)


def _line_tokens(client: LLMClient, per_user: list[list[str]]) -> tuple[list[list[int]], str]:
    flat = [line for lines in per_user for line in lines]
    counts, method = client.count_tokens(INTEREST_MINER, flat)
    out, start = [], 0
    for lines in per_user:
        out.append(counts[start : start + len(lines)])
        start += len(lines)
    return out, method


def run_compress(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Compress the sampled users' test histories; token figures before and after, against the prompt budget."""
    started = time.perf_counter()
    users = sample_users(dataset, config.users, seed)
    histories = [test_history(dataset, int(u), config) for u in users]
    empty = [dataset.user_ids[int(u)] for u, h in zip(users, histories) if not h.events]
    if len(empty) == len(histories):
        raise AgenticRecError(f"no sampled user has a reliable event; check intent.reliable {config.reliable}")
    names = item_names(dataset, config, client, sorted(set().union(*(h.items for h in histories))))
    texts = {i: dataset.item_text(i) for h in histories for i in h.items}
    raw = [uncompressed(h, texts) for h in histories]
    item_level = [uncompressed(h, names) for h in histories]
    compressed = [compress(h, names, config.position_buckets) for h in histories]
    raw_counts, method = _line_tokens(client, raw)
    item_counts, _ = _line_tokens(client, item_level)
    comp_counts, _ = _line_tokens(client, compressed)

    def total(counts: list[int]) -> int:
        return sum(counts) + max(len(counts) - 1, 0)  # one token per newline

    table = pd.DataFrame(
        {
            "user": [dataset.user_ids[int(u)] for u in users],
            "user_index": users,
            "target": [int(dataset.sequences[int(u)][-1]) for u in users],
            "events": [len(h.events) for h in histories],
            "raw_tokens": [total(c) for c in raw_counts],
            "item_compressed_tokens": [total(c) for c in item_counts],
            "compressed_tokens": [total(c) for c in comp_counts],
            "lines": compressed,
            "prompt_lines": [
                fit_lines(lines, counts, config.prompt_budget) for lines, counts in zip(compressed, comp_counts)
            ],
        }
    )
    artifacts.write_table(run_dir, artifacts.HISTORIES, table)
    before, after = table["raw_tokens"].mean(), table["compressed_tokens"].mean()
    summary = {
        "users": len(table),
        "users_without_reliable_events": len(empty),
        "token_counter": method,
        "prompt_budget": config.prompt_budget,
        "tokens_before_mean": float(before),
        "tokens_item_compressed_mean": float(table["item_compressed_tokens"].mean()),
        "tokens_after_mean": float(after),
        "compression_token_reduction": float(1 - after / before) if before else 0.0,
        "fit_share_before": float((table["raw_tokens"] <= config.prompt_budget).mean()),
        "fit_share_after": float((table["compressed_tokens"] <= config.prompt_budget).mean()),
        "timestamps": dataset.timestamps is not None,
        "wall_seconds": time.perf_counter() - started,
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.COMPRESSION, summary)
    return summary


def item_groups(dataset: Dataset, config: IntentConfig) -> dict[int, str]:
    """Item index -> the group grounded interests are made of: its level-1 descriptor with a tagger run, else the
    leaf of its category."""
    if config.tagger_run is not None:
        folder = tagger_artifacts.tagger_dir(config.tagger_run)
        vocabulary = Vocabulary.load(folder / tagger_artifacts.VOCABULARY)
        table = tagger_artifacts.read_assignments(config.tagger_run, tagger_artifacts.ASSIGNMENTS)
        named = {
            dataset.index_of[str(item)]: vocabulary.get(path[0]).name
            for item, path in zip(table["item_id"], table["descriptor_ids"])
            if len(path)
        }
        return {i: named.get(i, "other") for i in range(1, dataset.n_items + 1)}
    categories = dataset.categories()
    if categories is None:
        raise AgenticRecError(f"{dataset.name} has no item categories; grounded mining needs them or a tagger_run")
    return {i: leaf(c) for i, c in enumerate(categories, start=1)}


def tag_candidates(dataset: Dataset) -> list[str]:
    """The names scored tags are chosen from: the distinct leaves of the catalogue's categories."""
    categories = dataset.categories()
    if categories is None:
        raise AgenticRecError(f"{dataset.name} has no item categories to score as tags; let the model write them")
    return sorted({leaf(c) for c in categories} - {"(none)"})


def preset_interests(tagger_run: Path | None) -> list[str]:
    """The level-1 descriptor names of a tagger run: the preset interest list."""
    if tagger_run is None:
        return []
    vocabulary = Vocabulary.load(tagger_artifacts.tagger_dir(tagger_run) / tagger_artifacts.VOCABULARY)
    return [d.name for d in vocabulary.children(None)]


def _histories(dataset: Dataset, table: pd.DataFrame, config: IntentConfig) -> list[History]:
    return [test_history(dataset, int(u), config) for u in table["user_index"]]


def run_mine(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Mine each sampled user's interests; keep only evidence from the user's own history."""
    started = time.perf_counter()
    table = artifacts.read_table(run_dir, artifacts.HISTORIES)
    histories = _histories(dataset, table, config)
    if config.mining == "grounded":
        groups = item_groups(dataset, config)
        outcomes = [grounded_interests([e.item for e in h.events], groups, config) for h in histories]
    else:
        outcomes = mine_interests(
            client,
            [list(lines) for lines in table["prompt_lines"]],
            [h.refs for h in histories],
            preset_interests(config.tagger_run),
            config,
        )
    ids = dataset.item_ids()
    rows = [
        {
            "user": user,
            "rank": rank,
            "name": interest.name,
            "rationale": interest.rationale,
            "evidence": [ids[i - 1] for i in interest.evidence],
            "repaired": interest.repaired,
        }
        for user, outcome in zip(table["user"], outcomes)
        for rank, interest in enumerate(outcome.interests)
    ]
    interests = pd.DataFrame(rows, columns=["user", "rank", "name", "rationale", "evidence", "repaired"])
    artifacts.write_table(run_dir, artifacts.INTERESTS, interests)
    own = {user: {ids[i - 1] for i in h.items} for user, h in zip(table["user"], histories)}
    evidence = [(user, e) for user, ev in zip(interests["user"], interests["evidence"]) for e in ev]
    counts = interests.groupby("user").size() if len(interests) else pd.Series(dtype=int)
    summary = {
        "users": len(table),
        "failed_calls": sum(not o.ok for o in outcomes),
        "interests": len(interests),
        "interests_per_user_mean": float(counts.reindex(table["user"], fill_value=0).mean()),
        "users_below_min_interests": int((counts.reindex(table["user"], fill_value=0) < config.min_interests).sum()),
        "repaired_interests": int(interests["repaired"].sum()),
        "dropped_interests": sum(o.dropped for o in outcomes),
        "evidence_valid_share": float(np.mean([e in own[u] for u, e in evidence])) if evidence else None,
        "mining": config.mining,
        "preset_interests": len(preset_interests(config.tagger_run)),
        "wall_seconds": time.perf_counter() - started,
        "llm": client.usage.as_dict(),
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.MINING, summary)
    return summary


def user_interests(interests: pd.DataFrame, users: list[str], index_of: dict[str, int]) -> list[list[Interest]]:
    by_user: dict[str, list[Interest]] = {u: [] for u in users}
    for row in interests.itertuples():
        by_user[row.user].append(Interest(row.name, row.rationale, [index_of[e] for e in row.evidence], row.repaired))
    return [by_user[u] for u in users]


def run_tags(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Predict K tags per sampled user from the mined interests and the compressed history."""
    started = time.perf_counter()
    table = artifacts.read_table(run_dir, artifacts.HISTORIES)
    interests = artifacts.read_table(run_dir, artifacts.INTERESTS)
    users = list(table["user"])
    lines = [list(user_lines) for user_lines in table["prompt_lines"]]
    mined = user_interests(interests, users, dataset.index_of)
    mode = client.config.role(TAG_PREDICTOR).choice
    if mode == "generate":
        names = template_names(dataset, config)
        history_names = [[names[i] for i in h.items] for h in _histories(dataset, table, config)]
        predicted = predict_tags(client, lines, mined, history_names, config)
    else:
        predicted = rank_tags(client, lines, mined, tag_candidates(dataset), config)
    rows = [
        {"user": user, "rank": rank, "tag": tag}
        for user, result in zip(users, predicted)
        if result is not None
        for rank, tag in enumerate(result[0])
    ]
    tags = pd.DataFrame(rows, columns=["user", "rank", "tag"])
    artifacts.write_table(run_dir, artifacts.TAGS, tags)
    answered = [r for r in predicted if r is not None]
    summary = {
        "users": len(users),
        "mode": mode,
        "failed_calls": len(predicted) - len(answered),
        "tags_per_user_mean": float(np.mean([len(t) for t, _ in answered])) if answered else 0.0,
        "tags_removed": sum(removed for _, removed in answered),
        "wall_seconds": time.perf_counter() - started,
        "llm": client.usage.as_dict(),
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.TAGGING, summary)
    return summary


def category_mapper(dataset: Dataset, config: IntentConfig, run_dir: Path, seed: int) -> CategoryMapper:
    """The tag->category model, fitted on every catalogue item's short form and its category."""
    categories = dataset.categories()
    if categories is None:
        raise AgenticRecError(f"{dataset.name} has no item categories; HR@K needs them (data category_field)")
    names = template_names(dataset, config.model_copy(update={"item_fields": ["title", "text", "brand"]}))
    return CategoryMapper.fit(
        [names[i] for i in range(1, dataset.n_items + 1)],
        list(categories),
        config.embedding_model,
        Path(run_dir) / "cache",
        seed,
    )


def run_evaluate(dataset: Dataset, config: IntentConfig, run_dir: Path, seed: int) -> dict[str, Any]:
    """HR@K of the LLM tags (their mapped categories) and of the category baselines, on the sampled users."""
    table = artifacts.read_table(run_dir, artifacts.HISTORIES)
    tags = artifacts.read_table(run_dir, artifacts.TAGS)
    categories = dataset.categories()
    mapper = category_mapper(dataset, config, run_dir, seed)
    assert categories is not None
    # priors from every user's history before the test item: no held-out item is ever counted
    priors = CategoryPriors.count([[categories[i - 1] for i in seq[:-1]] for seq in dataset.sequences])
    k_max = max(config.hit_ks)
    by_user = {u: list(g.sort_values("rank")["tag"]) for u, g in tags.groupby("user")}
    methods = ("llm", "popular", "recent", "transition", "hybrid")
    hits: dict[str, dict[int, list[bool]]] = {m: {k: [] for k in config.hit_ks} for m in methods}
    examples: list[dict[str, Any]] = []
    distinct_categories: list[int] = []
    evaluated_users: list[tuple[int, list[str]]] = []  # (user index, predicted tags)
    for row in table.itertuples():
        if row.user not in by_user:
            continue  # the tag call failed for this user
        user_tags = by_user[row.user]
        evaluated_users.append((row.user_index, user_tags))
        tag_categories = mapper.categories_of(user_tags)
        distinct_categories.append(len(set(tag_categories)))
        history = [categories[i - 1] for i in dataset.sequences[row.user_index][:-1]]
        target = categories[row.target - 1]
        ranked = {
            "popular": priors.popular[:k_max],
            "recent": priors.recent(history, k_max),
            "transition": priors.transition(history, k_max),
            "hybrid": priors.hybrid(tag_categories, history, k_max, config.prior_weight),
        }
        for k in config.hit_ks:
            hits["llm"][k].append(target in distinct(tag_categories[:k]))
            for method, ranking in ranked.items():
                hits[method][k].append(hit_at(ranking, target, k))
        if len(examples) < 20:
            examples.append(
                {
                    "user": row.user,
                    "history": list(row.lines)[:8],
                    "tags": user_tags,
                    "tag_categories": tag_categories,
                    "target": dataset.item_text(row.target),
                    "target_category": target,
                    "hit": target in distinct(tag_categories),
                }
            )
    evaluated = len(hits["llm"][k_max])
    if not evaluated:
        raise AgenticRecError(f"{run_dir}: no sampled user has predicted tags; run `agenticrec intent tags`")
    summary: dict[str, Any] = {"users_evaluated": evaluated, "categories": len(mapper.classes)}
    for method in methods:
        for k in config.hit_ks:
            summary[f"hr{k}_{method}"] = float(np.mean(hits[method][k]))
    summary["distinct_tag_categories_mean"] = float(np.mean(distinct_categories))
    if config.tar_run is not None:
        tar = tar_with_predicted_tags(
            dataset, config.tar_run, [u for u, _ in evaluated_users], [t for _, t in evaluated_users]
        )
        summary |= {f"tar_{k}": v for k, v in tar.items() if k.startswith(("ndcg10", "recall10"))}
        for example, top in zip(examples, tar.pop("top")):
            example["recommended"] = [dataset.item_text(i) for i in top]
    result = {
        "summary": summary,
        "protocol": {
            "users": f"seeded sample of {len(table)} users (seed {seed}); target = each user's last item (test)",
            "hit": "the target's category is among the categories the first K tags map to (LLM) or among the first "
            "K ranked categories (baselines)",
            "tag_to_category": f"logistic regression on {config.embedding_model} embeddings of every item's short "
            "form (title/text/brand) -> its category",
            "priors": "popularity and first-order transitions counted on every user's history before the test item",
            "hybrid": f"(1 - {config.prior_weight}) * LLM tag vote share + {config.prior_weight} * P(category | "
            "last category)",
            **(
                {
                    "tar": f"{config.tar_run}: the predicted tags as TAR's tag-tower input against its own tags of the "
                    "users' last items; full ranking of the test item"
                }
                if config.tar_run
                else {}
            ),
        },
        "examples": examples,
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.EVALUATION, result)
    return result
