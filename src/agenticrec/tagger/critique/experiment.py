"""The single-turn critique experiment of AgenticTagger: for test users, an LLM playing the user sees the
held-out item's text (without its category field) and picks the level-1 descriptors it wants; Recall/NDCG of
vanilla beam search are compared with beam search restricted to items under the picked descriptors, and with the
bound of a user who always picks the target's own level-1 descriptor (the oracle).

Where the user chooses by scoring and the model decodes semantic IDs, a soft critique is measured too: the
user's option scores, times one weight, are a log-prior over the level-1 tokens of beam search. The weight is
the one of ``SOFT_WEIGHTS`` with the best NDCG@10 on seeded validation users (weight 0 is the vanilla list), so
the critique is trusted only as far as it helped on users other than the test ones."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agenticrec.data.dataset import EvalSet, first_words
from agenticrec.errors import AgenticRecError
from agenticrec.evaluate.ranking import item_counts, ndcg_per_user, rank_metrics, relative_gain_interval
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.models.generative.model import GenerativeRetrieval
from agenticrec.pipeline import load_run
from agenticrec.semantic_ids import SemanticIDs
from agenticrec.tagger.critique.simulated_user import (
    ROLE,
    Option,
    choice_picks,
    level1_choices,
    level1_options,
    pick_level1,
    typical_items,
    with_examples,
)

CRITIQUE_FILE = "critique.json"
SOFT_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
EXAMPLE_WORDS = 8  # a typical item on an option's card: the first words of its first text field


def list_ranks(lists: np.ndarray, targets: np.ndarray) -> torch.Tensor:
    """0-based position of each target in its ranked list; a target outside the list ranks after it."""
    hits = lists == targets[:, None]
    return torch.as_tensor(np.where(hits.any(axis=1), hits.argmax(axis=1), lists.shape[1]))


def run_semantic_ids(ids: SemanticIDs | None, run_dir: Path) -> SemanticIDs:
    """The run's semantic IDs, whose level-1 tokens the critique steers by."""
    if ids is None:
        raise AgenticRecError(f"{run_dir}: critique control needs a run with semantic IDs (e.g. model.name=generative)")
    return ids


def level1_prior(model: GenerativeRetrieval, options: list[Option], scores: list[list[float]]) -> np.ndarray:
    """Per user, the option scores placed on the model's level-1 token ids: a (users, vocab_size) log-prior."""
    prior = np.zeros((len(scores), model.tokenizer.vocab_size), dtype=np.float32)
    columns = [model.tokenizer.token_of[o.token] for o in options]
    prior[:, columns] = np.asarray(scores, dtype=np.float32).reshape(len(scores), len(columns))
    return prior


def soft_critique(
    model: GenerativeRetrieval,
    options: list[Option],
    valid: EvalSet,
    valid_scores: list[list[float] | None],
    test: EvalSet,
    test_scores: list[list[float]],
    beam: int,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The soft critique's target ranks on ``test``, with the weight of ``SOFT_WEIGHTS`` that has the best
    NDCG@10 on ``valid`` (users whose call failed left out) and the validation curve."""
    scored = [k for k, scores in enumerate(valid_scores) if scores]
    histories = [valid.histories[k] for k in scored]
    prior = level1_prior(model, options, [valid_scores[k] or [] for k in scored])
    curve = {
        w: rank_metrics(list_ranks(model.recommend(histories, k=beam, prior=w * prior)[0], valid.targets[scored]),
                        (10,))["ndcg@10"]
        for w in SOFT_WEIGHTS
    }  # fmt: skip
    weight = max(SOFT_WEIGHTS, key=lambda w: (curve[w], -w))  # ties go to the smaller weight
    softened, _ = model.recommend(test.histories, k=beam, prior=weight * level1_prior(model, options, test_scores))
    fitted = {
        "soft_weight": weight,
        "soft_valid_users": len(scored),
        "soft_valid_ndcg10": {str(w): v for w, v in curve.items()},
    }
    return list_ranks(softened, test.targets), fitted


def run_critique(
    run_dir: Path,
    users: int = 5000,
    seed: int = 0,
    ks: tuple[int, ...] = (5, 10, 20),
    llm: LLMConfig | None = None,
    valid_users: int = 300,
    examples: int = 0,
    typical_apart: int | None = None,
) -> dict[str, Any]:
    """Run the experiment on up to ``users`` seeded test users and write ``critique.json`` in the run dir; the
    simulated user is ``llm``'s role `simulated_user` (by default the run's own LLM config). The soft critique's
    weight is fitted on ``valid_users`` seeded validation users (seed + 1). With ``examples``, each level-1
    option's card lists that many typical items (its most interacted-with in training), the same cards for every
    user; a user whose wanted item is on a card is given its descriptor, so the figures are also reported without
    the users whose target is among each option's ``typical_apart`` typical items (default ``examples``; give runs
    that are compared the same number, so that they leave out the same users)."""
    started = time.perf_counter()
    run = load_run(run_dir)
    llm = llm or run.config.llm
    model = run.model
    ids = run_semantic_ids(run.semantic_ids, run_dir)
    options = level1_options(ids, run.config.semantic_ids.tagger_run or run_dir)
    if len(options) < 2:
        raise AgenticRecError(f"{run_dir}: the semantic IDs have {len(options)} level-1 token(s); nothing to critique")
    test = run.split.stage("test").sample(users, seed)
    valid = run.split.stage("valid").sample(valid_users, seed + 1)
    shown = run.dataset.without_category_field()  # the category names the level-1 tokens: no copying
    counts = item_counts(run.split.train, run.dataset.n_items)
    options = with_examples(options, ids, counts, lambda item: first_words(shown.title(item), EXAMPLE_WORDS), examples)
    texts = lambda targets: [shown.item_text(int(target)) for target in targets]  # noqa: E731
    scoring = llm.role(ROLE).choice != "generate" and valid_users > 0
    soft = model if isinstance(model, GenerativeRetrieval) and scoring else None  # the soft critique's model
    with LLMClient(llm, run_dir) as client:
        if soft is None:
            picks = pick_level1(client, texts(test.targets), options)
        else:  # one scored choice per test user gives both the hard picks and the soft prior
            choices = level1_choices(client, texts(test.targets), options)
            picks = choice_picks(choices, options)
            test_scores = [c.scores for c in choices]
            valid_scores = [c.scores for c in level1_choices(client, texts(valid.targets), options)]
    picked = {k: p for k, p in enumerate(picks) if p is not None}  # user -> tokens, where the call succeeded
    answered = list(picked)
    if not answered:
        raise AgenticRecError(f"{run_dir}: every simulated-user call failed; see `agenticrec llm stats {run_dir}`")
    histories = [test.histories[k] for k in answered]
    targets = test.targets[answered]
    everything = ids.items_under([()])  # an abstaining user keeps the vanilla list
    allowed = np.stack([ids.items_under([(t,) for t in picked[k]]) if picked[k] else everything for k in answered])
    apart = examples if typical_apart is None else typical_apart
    typical = np.concatenate([typical_items(ids, o.token, counts, apart) for o in options])
    under = allowed[np.arange(len(targets)), targets]  # the target is among the items the picks allow
    oracle = np.stack([ids.items_under([ids.tokens(int(target))[:1]]) for target in targets])
    beam = max(ks)
    ranks = {  # the oracle user picks the target's own level-1 token
        "vanilla": list_ranks(model.recommend(histories, k=beam)[0], targets),
        "critique": list_ranks(model.recommend(histories, k=beam, allowed=allowed)[0], targets),
        "oracle": list_ranks(model.recommend(histories, k=beam, allowed=oracle)[0], targets),
    }
    result: dict[str, Any] = {
        "protocol": {
            "dataset": run.dataset.name,
            "split": "leave-one-out test users",
            "users_sampled": len(test.targets),
            "seed": seed,
            "semantic_ids": ids.method,
            "beam": beam,
            "level1_options": len(options),
            "examples_per_option": examples,
            "user_text_fields": shown.text_fields,
            "simulated_user": llm.role(ROLE).model_dump(mode="json"),
        },
        "users": len(answered),
        "failed_llm_calls": len(test.targets) - len(answered),
        "mean_picked": float(np.mean([len(picked[k]) for k in answered])),
        "abstained": sum(not picked[k] for k in answered),
        "target_under_picks": float(under.mean()),
        "target_among_typical": float(np.isin(targets, typical).mean()),
    }
    if soft is not None:
        if not any(valid_scores):
            raise AgenticRecError(f"{run_dir}: every validation user's simulated-user call failed; see "
                                  f"`agenticrec llm stats {run_dir}`")  # fmt: skip
        scores = [test_scores[k] or [0.0] * len(options) for k in answered]
        ranks["soft"], fitted = soft_critique(
            soft, options, valid, valid_scores, EvalSet(histories, targets), scores, beam
        )
        result |= fitted
    result |= {decoding: rank_metrics(r, ks) for decoding, r in ranks.items()}
    if apart:
        unseen = ~np.isin(targets, typical)
        result["targets_not_among_typical"] = {
            "typical_per_option": apart,
            "users": int(unseen.sum()),
            "target_under_picks": float(under[unseen].mean()),
        } | {decoding: rank_metrics(r[torch.as_tensor(unseen)], (10,))["ndcg@10"] for decoding, r in ranks.items()}
    vanilla = ndcg_per_user(ranks["vanilla"], 10)
    result["ndcg10_gain_ci95"] = {
        decoding: relative_gain_interval(vanilla, ndcg_per_user(r, 10), seed) for decoding, r in ranks.items()
        if decoding != "vanilla"
    }  # fmt: skip
    result["wall_seconds"] = time.perf_counter() - started
    write_json(Path(run_dir) / CRITIQUE_FILE, result)
    return result
