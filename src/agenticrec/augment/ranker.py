"""LaMAR's LLM ranker protocol (§4.4): each of a seeded sample of test users gets their most recent items and 21
candidates (20 random items + the true next item, shuffled with a seed); role ``ranker`` orders the candidates.
The same candidate sets are ranked by random order, popularity and any trained runs, so every figure compares
like with like. Items are rendered from ``data.text_fields``, each field cut to ``words`` words: run once with the
original fields and once with the signal added.

Two ways to rank, by the role's ``choice`` mode: ``score``/``calibrated`` score every candidate's title as the prompt
shows it, or the letter it is listed under (``answer: letter``, one token each), as the answer to "which item comes
next" (nothing is generated, every candidate gets a score);
``generate`` asks for a JSON ranking of the candidate numbers, constrained to them; a number given twice counts
once, and candidates left out follow in the order shown (counted as incomplete rankings)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import create_model

from agenticrec.augment import artifacts
from agenticrec.augment.config import LETTERS, RANKER, RankerConfig
from agenticrec.data import Dataset
from agenticrec.data.dataset import EvalSet, first_words
from agenticrec.errors import AgenticRecError
from agenticrec.evaluate import item_counts
from agenticrec.io import atomic_path, write_json
from agenticrec.llm import LLMClient, Message, chat, load_prompt, quote_data
from agenticrec.pipeline import load_run

CUTOFF = 10
ANSWERS = {
    "title": "Answer with the title of one candidate, exactly as it is written.",
    "letter": "Answer with the letter of one candidate.",
}


@dataclass(frozen=True)
class CandidateSet:
    """One test user's last ``history`` items and shuffled candidates, the true next item among them once."""

    user: int  # row of the user in the test stage
    history: np.ndarray
    candidates: np.ndarray
    target: int

    @property
    def position(self) -> int:
        """Where the true item was shown (0 = first)."""
        return int(np.flatnonzero(self.candidates == self.target)[0])


def candidate_sets(test: EvalSet, n_items: int, config: RankerConfig, seed: int) -> list[CandidateSet]:
    """``config.users`` seeded test users; for each, ``config.negatives`` distinct random items that are neither
    the target nor in the user's history, plus the target, shuffled. A user's candidates depend on the seed and
    the user alone, and a smaller sample is part of a larger one, so a ledger of a smaller run serves a larger."""
    chosen = np.sort(np.random.default_rng(seed).permutation(len(test.targets))[: config.users])
    out = []
    for user in chosen.tolist():
        rng = np.random.default_rng([seed, user])
        history, target = test.histories[user], int(test.targets[user])
        seen = {target, *history.tolist()}
        if n_items - len(seen) < config.negatives:
            raise AgenticRecError(f"{n_items} items are too few for {config.negatives} negatives per user")
        negatives: list[int] = []
        while len(negatives) < config.negatives:
            item = int(rng.integers(1, n_items + 1))
            if item not in seen:
                seen.add(item)
                negatives.append(item)
        candidates = rng.permutation(np.array([*negatives, target]))
        out.append(CandidateSet(user, history[-config.history :], candidates, target))
    return out


def ranks_from_scores(sets: list[CandidateSet], scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The true item's 0-based rank among each set's candidates by ``scores`` (sets x candidates); ties are broken
    at random, so a constant scorer is a random ranker."""
    ranks = np.empty(len(sets), dtype=np.int64)
    for row, (candidate_set, score) in enumerate(zip(sets, scores)):
        order = np.lexsort((rng.random(len(score)), -score))
        ranks[row] = int(np.flatnonzero(candidate_set.candidates[order] == candidate_set.target)[0])
    return ranks


def metrics(ranks: np.ndarray) -> dict[str, float]:
    """Recall@10 (= hit rate: one relevant item), NDCG@10 and MRR of the true item's 0-based ranks."""
    within = ranks < CUTOFF
    return {
        "recall@10": float(within.mean()),
        "ndcg@10": float(np.where(within, 1 / np.log2(ranks + 2), 0.0).mean()),
        "mrr": float((1 / (ranks + 1)).mean()),
        "hit@1": float((ranks == 0).mean()),
    }


def expected_random(candidates: int) -> dict[str, float]:
    """The exact expectation of `metrics` under a random order: every rank of the true item equally likely."""
    return metrics(np.arange(candidates))


def by_position(sets: list[CandidateSet], ranks: np.ndarray) -> list[dict[str, float]]:
    """Position bias: per position the true item was shown at, its users, hit@1 and NDCG@10."""
    positions = np.array([s.position for s in sets])
    rows = []
    for position in range(len(sets[0].candidates) if sets else 0):
        here = ranks[positions == position]
        if here.size:
            rows.append({"position": position + 1, "users": int(here.size), **metrics(here)})
    return rows


def model_scores(run_dir: Path, dataset: Dataset, test: EvalSet, sets: list[CandidateSet]) -> np.ndarray:
    """A trained run's scores of each set's candidates from the user's full test history."""
    run = load_run(run_dir)
    if run.config.data.name != dataset.name or run.dataset.n_items != dataset.n_items:
        raise AgenticRecError(f"baseline {run_dir} was trained on {run.config.data.name}, not {dataset.name}")
    full = run.model.score_batched([test.histories[s.user] for s in sets])
    return np.array([full[i, s.candidates] for i, s in enumerate(sets)])


def _titles(dataset: Dataset, items: np.ndarray, words: int) -> list[str]:
    """Each candidate's answer text: the first `words` words of its title (or its text), made distinct within the
    set."""
    titles: list[str] = []
    for item in items.tolist():
        title = first_words(dataset.title(item), words)
        titles.append(title if title not in titles else f"{title} [{dataset.items['item_id'].iloc[item - 1]}]")
    return titles


def _labels(n: int, answer: str) -> list[str]:
    """What each of ``n`` candidates is listed under: its number, or its letter when the answer is the letter."""
    return list(LETTERS[:n]) if answer == "letter" else [str(k) for k in range(1, n + 1)]


def _user_block(
    dataset: Dataset, candidate_set: CandidateSet, words: int, history: bool = True, answer: str = "title"
) -> str:
    """The candidates, then the user's recent items, each field cut to `words` words: the content-free request
    (history "N/A") shares the candidates' prefix with the user's request, which the engine then evaluates once."""
    recent = "\n".join(f"- {dataset.item_text(i, words)}" for i in candidate_set.history) if history else "N/A"
    items = candidate_set.candidates.tolist()
    shown = "\n".join(f"{label}. {dataset.item_text(i, words)}" for label, i in zip(_labels(len(items), answer), items))
    return f"Candidates:\n{quote_data(shown, 'candidates')}\n\n{quote_data(recent, 'recent items')}"


@dataclass(frozen=True)
class PickRequests:
    """Role ``ranker``'s scored requests, one per candidate set: the user's, its content-free twin (history "N/A"),
    and the answer scored for each candidate, in the set's order."""

    requests: list[list[Message]]
    content_free: list[list[Message]]
    options: list[list[str]]


def pick_requests(dataset: Dataset, sets: list[CandidateSet], words: int = 10, answer: str = "title") -> PickRequests:
    n = len(sets[0].candidates) if sets else 0
    system = load_prompt(__file__, "prompts/ranker_pick.md").render(
        history=len(sets[0].history) if sets else 0, candidates=n, answer=ANSWERS[answer]
    )
    return PickRequests(
        [chat(system, _user_block(dataset, s, words, answer=answer)) for s in sets],
        [chat(system, _user_block(dataset, s, words, history=False, answer=answer)) for s in sets],
        [_labels(n, answer) if answer == "letter" else _titles(dataset, s.candidates, words) for s in sets],
    )


def llm_scores(
    dataset: Dataset, sets: list[CandidateSet], client: LLMClient, words: int = 10, answer: str = "title"
) -> tuple[np.ndarray, dict[str, int]]:
    """Role ``ranker``'s scores of each set's candidates (higher first), and counts of failed and incomplete
    rankings (a failed one scores every candidate 0, i.e. a random order)."""
    n = len(sets[0].candidates) if sets else 0
    if client.config.role(RANKER).choice == "generate":
        return _generated(dataset, sets, client, n, words)
    asked = pick_requests(dataset, sets, words, answer)
    results = client.choose(RANKER, asked.requests, asked.options, content_free=asked.content_free)
    scores = np.array([r.scores if r.ok and r.scores else [0.0] * n for r in results])
    return scores, {"failed": sum(not r.ok for r in results), "incomplete": 0}


def _generated(
    dataset: Dataset, sets: list[CandidateSet], client: LLMClient, n: int, words: int
) -> tuple[np.ndarray, dict[str, int]]:
    system = load_prompt(__file__, "prompts/ranker_rank.md").render(history=len(sets[0].history), candidates=n)
    number = Literal[tuple(range(1, n + 1))]  # type: ignore[valid-type]
    ranking = create_model("Ranking", ranking=(list[number], ...))  # type: ignore[valid-type]
    results = client.batch(RANKER, [chat(system, _user_block(dataset, s, words)) for s in sets], ranking)
    scores, failed, incomplete = np.zeros((len(sets), n)), 0, 0
    for row, result in enumerate(results):
        if not result.ok or result.value is None:
            failed += 1
            continue
        order = list(dict.fromkeys(k - 1 for k in result.value.ranking))
        incomplete += len(order) < n
        order += [k for k in range(n) if k not in order]
        scores[row, order] = np.arange(n, 0, -1)
    return scores, {"failed": failed, "incomplete": incomplete}


def run_rank_llm(
    dataset: Dataset, config: RankerConfig, client: LLMClient, run_dir: Path, seed: int, baselines: dict[str, Path]
) -> dict[str, Any]:
    """Rank the candidate sets by the LLM, random order, popularity and each baseline run; write
    ``augment/ranker.json`` and ``augment/ranks.parquet`` (the true item's rank per user and method)."""
    started = time.perf_counter()
    split = dataset.split()
    test = split.stage("test")
    sets = candidate_sets(test, dataset.n_items, config, seed)
    if not sets:
        raise AgenticRecError("no test users to rank")
    rng = np.random.default_rng(seed)
    counts = item_counts(split.train, dataset.n_items)
    scored: dict[str, np.ndarray] = {
        "random": np.zeros((len(sets), len(sets[0].candidates))),
        "popularity": np.array([counts[s.candidates] for s in sets], dtype=float),
    }
    for name, path in baselines.items():
        scored[name] = model_scores(path, dataset, test, sets)
    llm, calls = llm_scores(dataset, sets, client, config.words, config.answer)
    scored = {"llm": llm, **scored}
    ranks = {name: ranks_from_scores(sets, s, rng) for name, s in scored.items()}
    result = {
        "protocol": {
            "users": len(sets),
            "history": config.history,
            "candidates": f"{config.negatives} random items (not the target, not in the history) + the true next item, "
            f"shuffled (seed {seed})",
            "text_fields": dataset.text_fields,
            "mode": client.config.role(RANKER).choice,
            "words": config.words,
            "answer": config.answer,
            "baselines": "score from each user's full test history",
        },
        "methods": {name: metrics(r) for name, r in ranks.items()}
        | {"random-expected": expected_random(len(sets[0].candidates))},
        "llm_by_position": by_position(sets, ranks["llm"]),
        "llm_calls": calls,
        "seconds": time.perf_counter() - started,
    }
    folder = artifacts.augment_dir(run_dir)
    table = pd.DataFrame(
        {
            "user": [s.user for s in sets],
            "target": [dataset.item_ids()[s.target - 1] for s in sets],
            "position": [s.position + 1 for s in sets],
            **{f"rank_{name}": r + 1 for name, r in ranks.items()},
        }
    )
    with atomic_path(folder / artifacts.RANKS) as tmp:
        table.to_parquet(tmp, index=False)
    write_json(folder / artifacts.RANKER, result)
    return result
