"""Tags by candidate scoring: a cheap prior proposes each user's top catalogue categories, the LLM scores every
candidate given the user's compressed history, and a hybrid learned on validation cut-offs ranks them.

Every sampled user is seen at two cut-offs: ``valid`` (history before the second-last item, target the second-last)
and ``test`` (history before the last item, target the last). Priors are counted on every user's history before the
cut-off, so no target is ever counted. The hybrid is a logistic regression over per-candidate features, fitted on the
validation cut-off and measured on the test cut-off of the same users; fitted once with the LLM's score and once
without it, so what the LLM adds is the difference between the two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts
from agenticrec.intent.config import TAG_PREDICTOR, IntentConfig
from agenticrec.intent.history import compress, fit_lines, user_history
from agenticrec.intent.hitrate import CategoryPriors, distinct
from agenticrec.intent.items import leaf, template_names
from agenticrec.intent.mining import history_message
from agenticrec.intent.retrieval import tar_with_predicted_categories
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, chat, load_prompt

CUTOFFS = {"valid": 2, "test": 1}  # cut-off -> items held out from the end of the sequence
SIMULATED_P = (0.2, 0.4, 0.6, 0.8, 1.0)  # accuracies of the simulated LLM
LIFT = 0.02  # HR@K points the LLM's score must add to the hybrid to count as beating it
PLAUSIBLE = 5  # a simulated LLM's wrong pick is one of the no-LLM hybrid's best this many wrong candidates
PRIOR_FEATURES = ("popular", "recent", "frequency", "transition", "similarity")
FEATURES = (*PRIOR_FEATURES, "llm")
NO_HISTORY = "N/A"


@dataclass
class Cut:
    """The sampled users at one cut-off: their category histories, item histories and targets."""

    name: str
    users: list[str]
    items: list[list[int]]  # each user's items before the cut-off, oldest first
    categories: list[list[str]]
    targets: list[str]  # the target item's category
    priors: CategoryPriors


def cut(dataset: Dataset, users: pd.DataFrame, name: str) -> Cut:
    categories = dataset.categories()
    if categories is None:
        raise AgenticRecError(f"{dataset.name} has no item categories to propose as tag candidates")
    held_out = CUTOFFS[name]
    sequences = [dataset.sequences[int(u)] for u in users["user_index"]]
    if short := [u for u, s in zip(users["user"], sequences) if len(s) <= held_out]:
        raise AgenticRecError(f"users {short[:5]} have no history before the {name} item")
    return Cut(
        name=name,
        users=list(users["user"]),
        items=[[int(i) for i in s[:-held_out]] for s in sequences],
        categories=[[categories[i - 1] for i in s[:-held_out]] for s in sequences],
        targets=[categories[int(s[-held_out]) - 1] for s in sequences],
        priors=CategoryPriors.count([[categories[i - 1] for i in s[:-held_out]] for s in dataset.sequences]),
    )


def candidates(priors: CategoryPriors, history: list[str], n: int) -> list[str]:
    """The prior's top ``n``: the user's own categories (most recent first), the likeliest transitions from the
    last one, then the popular ones."""
    own = distinct(list(reversed(history)))[: n // 2]
    transition = priors.transition_scores(history[-1]) if history else {}
    likely = sorted(transition, key=lambda c: -transition[c])[: n // 2]
    return distinct([*own, *likely, *priors.popular])[:n]


def prior_features(
    at: Cut, proposed: list[list[str]], item_vectors: np.ndarray, category_vectors: dict[str, np.ndarray]
) -> pd.DataFrame:
    """One row per (user, candidate): the label and the features every prior gives."""
    popularity = {c: len(at.priors.popular) - r for r, c in enumerate(at.priors.popular)}
    rows = []
    for user, items, history, target, options in zip(at.users, at.items, at.categories, at.targets, proposed):
        order = distinct(list(reversed(history)))  # most recent first
        transition = at.priors.transition_scores(history[-1]) if history else {}
        profile = item_vectors[[i - 1 for i in items]].mean(axis=0)
        profile /= np.linalg.norm(profile) or 1.0
        for c in options:
            rows.append({
                "cutoff": at.name, "user": user, "candidate": c, "label": c == target,
                "popular": float(np.log1p(popularity.get(c, 0))),
                "recent": 1.0 / (1 + order.index(c)) if c in order else 0.0,
                "frequency": history.count(c) / len(history),
                "transition": transition.get(c, 0.0),
                "similarity": float(profile @ category_vectors[c]),
            })  # fmt: skip
    return pd.DataFrame(rows)


def scoring_requests(
    dataset: Dataset, config: IntentConfig, client: LLMClient, at: Cut, users: pd.DataFrame
) -> list[list[dict[str, str]]]:
    """Each user's compressed history at the cut-off, under the tag scorer's instructions."""
    names = template_names(dataset, config)
    system = load_prompt(__file__, "prompts/tag_scorer.md").text
    held_out = CUTOFFS[at.name]
    histories = [
        user_history(dataset, int(u), len(dataset.sequences[int(u)]) - held_out, config) for u in users["user_index"]
    ]
    lines = [compress(h, names, config.position_buckets) for h in histories]
    flat = [line for user_lines in lines for line in user_lines]
    counts, _ = client.count_tokens(TAG_PREDICTOR, flat)
    requests, start = [], 0
    for user_lines in lines:
        fitted = fit_lines(user_lines, counts[start : start + len(user_lines)], config.prompt_budget)
        start += len(user_lines)
        requests.append(chat(system, history_message(fitted)))
    return requests


def run_score(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Role `tag_predictor`'s log-prob of each proposed candidate (its category's leaf name) as the answer, at both
    cut-offs, and once without any history (the content-free score the hybrid subtracts)."""
    started = time.perf_counter()
    users = artifacts.read_table(run_dir, artifacts.HISTORIES)
    tables = []
    for name in CUTOFFS:
        at = cut(dataset, users, name)
        proposed = [candidates(at.priors, h, config.candidates) for h in at.categories]
        requests = scoring_requests(dataset, config, client, at, users)
        results = client.score(TAG_PREDICTOR, requests, [[leaf(c) for c in options] for options in proposed])
        for user, options, result in zip(at.users, proposed, results):
            logprobs = [s.logprob for s in result.value or []] if result.ok else [np.nan] * len(options)
            tables.append(pd.DataFrame({"cutoff": name, "user": user, "candidate": options, "logprob": logprobs}))
    table = pd.concat(tables, ignore_index=True)
    options = sorted({leaf(c) for c in table["candidate"]})
    free = load_prompt(__file__, "prompts/tag_scorer.md").text
    [free_result] = client.score(TAG_PREDICTOR, [chat(free, history_message([NO_HISTORY]))], [options])
    if not free_result.ok:
        raise AgenticRecError(f"the content-free scoring call failed: {free_result.error}")
    content_free = {option: score.logprob for option, score in zip(options, free_result.value or [])}
    table["content_free"] = [content_free[leaf(c)] for c in table["candidate"]]
    artifacts.write_table(run_dir, artifacts.CANDIDATE_SCORES, table)
    failed = table.groupby(["cutoff", "user"])["logprob"].apply(lambda s: s.isna().all())
    summary = {
        "users": len(users),
        "candidates_per_user": config.candidates,
        "scored": int(table["logprob"].notna().sum()),
        "failed_users": int(failed.sum()),
        "wall_seconds": time.perf_counter() - started,
        "llm": client.usage.as_dict(),
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.SCORING, summary)
    return summary


def ranking(table: pd.DataFrame, score: pd.Series) -> pd.DataFrame:
    """Each user's candidates ranked by ``score`` (ties by popularity), with their ``rank`` (0 first)."""
    ranked = table.assign(score=score.to_numpy()).sort_values(
        ["user", "score", "popular"], ascending=[True, False, False]
    )
    return ranked.assign(rank=ranked.groupby("user").cumcount())


def hit_rates(table: pd.DataFrame, score: pd.Series, ks: list[int]) -> dict[int, float]:
    """HR@K of each user's candidates ranked by ``score``: the target among the first K."""
    return ranked_hit_rates(ranking(table, score), ks)


def ranked_hit_rates(ranked: pd.DataFrame, ks: list[int]) -> dict[int, float]:
    users = ranked["user"].nunique()
    return {k: ranked[(ranked["rank"] < k) & ranked["label"]]["user"].nunique() / users for k in ks}


def baselines(at: Cut, users: set[str], ks: list[int]) -> dict[str, dict[int, float]]:
    """HR@K over ``users`` of the plain category baselines of `intent evaluate` over the whole catalogue: popular,
    the user's own most recent, and first-order transitions from the last category."""
    k = max(ks)
    chosen = [i for i, user in enumerate(at.users) if user in users]
    histories, targets = [at.categories[i] for i in chosen], [at.targets[i] for i in chosen]
    rankings = {
        "popular": [at.priors.popular[:k]] * len(chosen),
        "recent": [at.priors.recent(h, k) for h in histories],
        "transition": [at.priors.transition(h, k) for h in histories],
    }
    return {
        name: {k: float(np.mean([t in r[:k] for r, t in zip(ranked, targets)])) for k in ks}
        for name, ranked in rankings.items()
    }


def simulated_scores(table: pd.DataFrame, prior: np.ndarray, p: float, seed: int) -> np.ndarray:
    """A simulated LLM of accuracy ``p``: per user, 1 for the target with probability ``p`` (where it is a
    candidate), otherwise 1 for a plausible wrong candidate (one of the prior's best wrong ones); 0 elsewhere."""
    rng = np.random.default_rng(seed)
    scores = np.zeros(len(table))
    for _, rows in table.assign(prior=prior).groupby("user", sort=False):
        target = rows.index[rows["label"].to_numpy()]
        wrong = rows[~rows["label"]].nlargest(PLAUSIBLE, "prior").index
        if len(target) and rng.random() < p:
            scores[target[0]] = 1.0
        elif len(wrong):
            scores[rng.choice(wrong)] = 1.0
    return scores


def fit_hybrid(train: pd.DataFrame, features: tuple[str, ...], seed: int) -> Any:
    if train["label"].nunique() < 2:
        raise AgenticRecError("no validation user's target is among its candidates: the hybrid cannot be fitted")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=seed))
    model.fit(train[list(features)].to_numpy(), train["label"].to_numpy())
    return model


def simulated_curve(valid: pd.DataFrame, test: pd.DataFrame, ks: list[int], seed: int) -> dict[float, dict[int, float]]:
    """HR@K of the hybrid whose LLM score comes from a simulated LLM of each accuracy in ``SIMULATED_P``."""
    prior = fit_hybrid(valid, PRIOR_FEATURES, seed)
    tables = [t.assign(prior=prior.predict_proba(t[list(PRIOR_FEATURES)].to_numpy())[:, 1]) for t in (valid, test)]
    curve = {}
    for p in SIMULATED_P:
        train, held = (
            t.assign(llm=simulated_scores(t, t["prior"].to_numpy(), p, seed + i)) for i, t in enumerate(tables)
        )
        model = fit_hybrid(train, FEATURES, seed)
        curve[p] = hit_rates(held, pd.Series(model.predict_proba(held[list(FEATURES)].to_numpy())[:, 1]), ks)
    return curve


def plot_curve(curve: dict[float, dict[int, float]], summary: dict[str, Any], k: int, path: Path) -> None:
    """HR@K against the simulated LLM's accuracy, beside the no-LLM hybrid, the best plain baseline and, where it
    ran, the real LLM's hybrid at its measured accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(curve), [hr[k] for hr in curve.values()], "o-", label="hybrid + simulated LLM")
    ax.axhline(summary[f"hr{k}_hybrid_without_llm"], color="grey", ls="--", label="hybrid without LLM")
    best = max(summary[f"hr{k}_{m}"] for m in ("popular", "recent", "transition"))
    ax.axhline(best, color="grey", ls=":", label="best plain baseline")
    if "llm_top1_accuracy" in summary:
        ax.plot([summary["llm_top1_accuracy"]], [summary[f"hr{k}_hybrid"]], "r*", ms=12, label="hybrid + the LLM")
    ax.set(xlabel="LLM accuracy (its best candidate is the target)", ylabel=f"HR@{k}", xlim=(0, 1.05))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_hybrid(dataset: Dataset, config: IntentConfig, run_dir: Path, seed: int) -> dict[str, Any]:
    """HR@K on the test cut-off: the plain category baselines, each feature alone over the candidates (``part_*``;
    the LLM score where `intent score` ran), and the hybrid with and without the LLM score, fitted on validation."""
    users = artifacts.read_table(run_dir, artifacts.HISTORIES)
    categories = dataset.categories()
    assert categories is not None
    category_names = sorted(set(categories))
    item_vectors = embed_texts(
        dataset.item_texts(), config.embedding_model, cache_dir=run_dir / "cache", progress=False
    )
    vectors = embed_texts(category_names, config.embedding_model, cache_dir=run_dir / "cache", progress=False)
    category_vectors = dict(zip(category_names, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)))
    cuts = {name: cut(dataset, users, name) for name in CUTOFFS}
    frames = []
    for at in cuts.values():
        proposed = [candidates(at.priors, h, config.candidates) for h in at.categories]
        frames.append(prior_features(at, proposed, item_vectors, category_vectors))
    table = pd.concat(frames, ignore_index=True)
    features: tuple[str, ...] = PRIOR_FEATURES
    scores_path = artifacts.intent_dir(run_dir) / artifacts.CANDIDATE_SCORES
    if scores_path.is_file():
        scores = pd.read_parquet(scores_path)
        table = table.merge(scores, on=["cutoff", "user", "candidate"], how="left", validate="one_to_one")
        scored = table.groupby("user")["logprob"].transform(lambda s: s.notna().all())
        table = table[scored].assign(llm=lambda t: t["logprob"] - t["content_free"])
        features = FEATURES
    valid, test = (table[table["cutoff"] == name].reset_index(drop=True) for name in CUTOFFS)
    ks = config.hit_ks
    methods = baselines(cuts["test"], set(test["user"]), ks)
    methods |= {f"part_{f}": hit_rates(test, test[f], ks) for f in features}
    variants = {"hybrid": features, "hybrid_without_llm": PRIOR_FEATURES} if "llm" in features else {
        "hybrid_without_llm": PRIOR_FEATURES}  # fmt: skip
    weights, predicted = {}, []
    for name, used in variants.items():
        model = fit_hybrid(valid, used, seed)
        weights[name] = dict(zip(used, model[-1].coef_[0].round(4).tolist()))
        ranked = {  # valid is the hybrid's own fit: its ranking there only tunes TAR's beta
            cutoff: ranking(rows, pd.Series(model.predict_proba(rows[list(used)].to_numpy())[:, 1]))
            for cutoff, rows in (("valid", valid), ("test", test))
        }
        methods[name] = ranked_hit_rates(ranked["test"], ks)
        for cutoff, rows in ranked.items():
            best = rows.loc[rows["rank"] < max(ks), ["user", "rank", "candidate"]].rename(
                columns={"candidate": "category"}
            )
            predicted.append(best.assign(hybrid=name, held_out=CUTOFFS[cutoff]))
    predictions = pd.concat(predicted, ignore_index=True).merge(users[["user", "user_index"]], on="user")
    artifacts.write_table(run_dir, artifacts.PREDICTED_CATEGORIES, predictions)
    curve = simulated_curve(valid, test, ks, seed)
    baseline = methods["hybrid_without_llm"][max(ks)]
    beating = [p for p, hr in curve.items() if round(hr[max(ks)] - baseline, 9) >= LIFT]  # 12 of 600 users is 0.02
    summary: dict[str, Any] = {
        "users_evaluated": int(test["user"].nunique()),
        "simulated_p_to_beat_baseline": min(beating) if beating else None,
        "candidates_per_user": config.candidates,
        "candidate_recall": float(test.groupby("user")["label"].any().mean()),
    }
    summary |= {f"hr{k}_{method}": hr[k] for method, hr in methods.items() for k in ks}
    if "llm" in features:  # the real LLM's place on the curve: how often its best candidate is the target
        top = test.loc[test.groupby("user")["llm"].idxmax()]
        summary["llm_top1_accuracy"] = float(top["label"].mean())
    if config.tar_run is not None:
        tar = tar_with_predicted_categories(dataset, config.tar_run, predictions)
        summary |= {f"tar_{key}": value for key, value in tar.items() if key != "users"}
    result = {
        "summary": summary,
        "weights": weights,
        "simulated": {str(p): {f"hr{k}": hr[k] for k in ks} for p, hr in curve.items()},
        "protocol": {
            "users": f"the {len(users)} sampled users of `intent compress` (seed {seed})",
            "cutoffs": "valid: history before the second-last item, target its category (the hybrid is fitted "
            "here); test: history before the last item, target its category (reported)",
            "candidates": f"per user and cut-off the prior's top {config.candidates}: recent categories, then "
            "transitions from the last one, then popular ones; a target outside them is a miss",
            "features": {
                "popular": "log(1 + popularity rank from the bottom), counted on histories before the cut-off",
                "recent": "1 / (1 + recency rank among the user's distinct categories), 0 if absent",
                "frequency": "share of the user's history in the category",
                "transition": "P(category | last category), counted on histories before the cut-off",
                "similarity": f"cosine of the user's mean {config.embedding_model} item vector and the category's",
                "llm": "role tag_predictor's log-prob of the category's leaf name given the compressed history, "
                "minus its log-prob without a history (content-free calibration)",
            },
            "hybrid": "standardised features, logistic regression (C=1) fitted on validation rows",
            "simulated": f"the hybrid with a simulated LLM score instead of the real one: the target with "
            f"probability p, else one of the {PLAUSIBLE} best wrong candidates of the no-LLM hybrid; "
            f"simulated_p_to_beat_baseline is the smallest p whose HR@{max(ks)} beats the no-LLM hybrid by "
            f"{LIFT:.0%} (absolute); llm_top1_accuracy places the real LLM on the same axis",
            **(
                {
                    "tar": f"{config.tar_run}: each hybrid's first categories on the test cut-off (as many as "
                    "the run's tag_items, each as its category-path tags) as TAR's tag-tower input, against its own "
                    "tags of the users' last items; full ranking of the test item"
                }
                if config.tar_run
                else {}
            ),
        },
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.HYBRID, result)
    plot_curve(curve, summary, max(ks), artifacts.intent_dir(run_dir) / artifacts.SIMULATED_PLOT)
    return result
