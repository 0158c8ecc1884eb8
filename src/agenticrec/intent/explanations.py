"""RecGPT's explanations (report §2.4): an offline (interest, item, explanation) table for the catalogue items closest
to each mined interest, a request-time lookup that needs no LLM call, and checks of what the explanations claim.

An interest's items are the ``explain_items`` catalogue items whose text embeds closest to the interest's name (its
own evidence items left out); a pair is explained once however many users share the interest. By default
(``explain_mode: grounded``) the LLM writes nothing: it picks, by option scores, which of the item text's own phrases
(the closest ``explain_phrases`` to the interest) meets the interest, and the note names that phrase; ``similarity``
picks it by MiniLM cosine alone (the no-LLM baseline). In ``free`` mode the LLM writes the note; one that names
attributes the item text lacks goes back to the LLM with those words named, and one still flagged stays in the table,
marked, and is not served. At request time a (user, item) pair is explained by the user's interest closest to the item
among those with a served entry for it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts
from agenticrec.intent.config import EXPLAINER, IntentConfig
from agenticrec.intent.mining import interest_key
from agenticrec.io import write_json
from agenticrec.judge.calibration import Calibrated
from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.claims import absent_attributes
from agenticrec.judge.config import JudgeConfig
from agenticrec.judge.criteria import CRITERIA
from agenticrec.judge.verdicts import judge, log_odds
from agenticrec.llm import (
    LLMClient,
    LLMResult,
    Message,
    ScoringUnsupported,
    chat,
    load_prompt,
    quote_data,
    short_answer,
)

TOKENS_PER_WORD = 2  # generation budget per allowed word (explanations are cut to the word limit afterwards)
PHRASE_BREAK = re.compile(r"\s*(?:[,;|>/]|\s-\s)\s*")
MAX_PHRASE_WORDS = 8


def interest_items(
    dataset: Dataset, interests: pd.DataFrame, config: IntentConfig, cache_dir: Path | None
) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """The (interest, item) pairs to explain: per distinct interest, the closest items outside its evidence; with
    the interest vectors (by key) and every item's vector (row ``i`` = item ``i + 1``)."""
    if interests.empty:
        raise AgenticRecError("no mined interests to explain; run `agenticrec intent mine` first")
    item_vectors = embed_texts(dataset.item_texts(), config.embedding_model, cache_dir=cache_dir, progress=False)
    interests = interests.assign(key=interests["name"].map(interest_key))
    names = interests.groupby("key")["name"].first()
    vectors = embed_texts(list(names), config.embedding_model, progress=False)
    evidence = interests.groupby("key")["evidence"].apply(lambda ids: {dataset.item_index(i) for e in ids for i in e})
    rows = []
    for (key, name), vector in zip(names.items(), vectors):
        similarity = item_vectors @ vector
        similarity[[i - 1 for i in evidence[key]]] = -np.inf
        for index in np.argsort(-similarity, kind="stable")[: config.explain_items]:
            rows.append({"interest": name, "interest_key": key, "item_index": int(index) + 1,
                         "similarity": float(similarity[index])})  # fmt: skip
    return pd.DataFrame(rows), dict(zip(names.index, vectors)), item_vectors


@dataclass
class Draft:
    """One pair's current explanation: the LLM's answer, the note read from it, and the attributes it names that the
    item text lacks."""

    answer: str
    note: str
    cut: bool
    absent: list[str]
    revised: bool = False


def _draft(result: LLMResult, item_text: str, interest: str, words: int, revised: bool = False) -> Draft | None:
    """The draft read from an answer; None when the call failed or answered nothing."""
    if not (result.ok and isinstance(result.value, str) and result.value.strip()):
        return None
    note, cut = short_answer(result.value, words)
    return Draft(result.value, note, cut, absent_attributes(note, item_text, context=interest), revised)


def _revise(
    client: LLMClient,
    requests: list[list[Message]],
    drafts: list[Draft | None],
    contexts: list[tuple[str, str]],
    config: IntentConfig,
) -> None:
    """Send each flagged draft back with the absent words named, ``explain_revisions`` times; a revision replaces
    the draft when it names fewer absent attributes. ``contexts``: each pair's (item text, interest)."""
    revision = load_prompt(__file__, "prompts/explainer_revision.md")
    for _ in range(config.explain_revisions):
        flagged = [(i, d) for i, d in enumerate(drafts) if d is not None and d.absent]
        if not flagged:
            return
        retries = [
            [
                *requests[i],
                {"role": "assistant", "content": draft.answer},
                {"role": "user", "content": revision.render(words=", ".join(draft.absent))},
            ]
            for i, draft in flagged
        ]
        for (i, draft), result in zip(flagged, client.batch(EXPLAINER, retries, params=_params(config))):
            revised = _draft(result, *contexts[i], config.explain_words, revised=True)
            if revised is not None and len(revised.absent) < len(draft.absent):
                drafts[i] = revised


def item_phrases(item_text: str) -> list[str]:
    """The item text's own phrases: each field's value cut at , ; | > / and " - ", of 1 to 8 words; the first
    spelling of each is kept."""
    found: dict[str, str] = {}
    for field in item_text.split("; "):
        for part in PHRASE_BREAK.split(field.split(": ", 1)[-1]):
            words = part.split()
            if 1 <= len(words) <= MAX_PHRASE_WORDS:
                found.setdefault(" ".join(words).casefold(), " ".join(words))
    return list(found.values())


def grounded_note(interest: str, phrase: str) -> str:
    """The note of a grounded explanation: nothing but the interest and the item's own phrase."""
    return f"Fits your interest in {interest}: {phrase}."


def _grounded_drafts(
    client: LLMClient,
    pairs: pd.DataFrame,
    texts: list[str],
    interest_vectors: dict[str, np.ndarray],
    config: IntentConfig,
) -> tuple[list[Draft | None], dict[str, Any]]:
    """Per pair, the phrase of the item text picked to meet the interest: by role `explainer`'s option scores among
    the ``explain_phrases`` closest to it (``grounded``), or the closest one (``similarity``)."""
    candidates = [item_phrases(text) for text in texts]
    distinct = sorted({phrase for phrases in candidates for phrase in phrases})
    vectors = dict(zip(distinct, embed_texts(distinct, config.embedding_model, progress=False), strict=True))
    options = []
    for key, phrases in zip(pairs["interest_key"], candidates, strict=True):
        closeness = np.array([vectors[p] @ interest_vectors[key] for p in phrases])
        options.append([phrases[i] for i in np.argsort(-closeness, kind="stable")[: config.explain_phrases]])
    picks: list[str | None] = [o[0] if o else None for o in options]
    asked = [i for i, o in enumerate(options) if len(o) > 1]
    if config.explain_mode == "grounded" and asked:
        system = load_prompt(__file__, "prompts/explainer_pick.md").render()
        interests = list(pairs["interest"])
        choices = client.choose(
            EXPLAINER,
            [explain_request(system, interests[i], texts[i]) for i in asked],
            [options[i] for i in asked],
            content_free=[explain_request(system, interests[i], "N/A") for i in asked],
        )
        for i, choice in zip(asked, choices, strict=True):
            picks[i] = None if choice.index is None else options[i][choice.index]
    drafts: list[Draft | None] = []
    for phrase, text, interest in zip(picks, texts, pairs["interest"], strict=True):
        note = None if phrase is None else grounded_note(interest, phrase)
        drafts.append(None if note is None else Draft(note, note, False, absent_attributes(note, text, interest)))
    agree = [picks[i] == options[i][0] for i in asked if picks[i] is not None and config.explain_mode == "grounded"]
    return drafts, {
        "phrases_per_pair_mean": float(np.mean([len(o) for o in options])) if options else 0.0,
        "pick_is_closest_share": sum(agree) / len(agree) if agree else None,
    }


def explain_request(system: str, interest: str, item_text: str) -> list[Message]:
    """The fixed instructions first, then the (interest, item) pair quoted as data."""
    return chat(system, quote_data(f"interest: {interest}\nitem: {item_text}", "pair"))


def _params(config: IntentConfig) -> dict[str, Any]:
    return {"max_tokens": TOKENS_PER_WORD * config.explain_words + 16}


def run_explain(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Write explanations.parquet: one explanation per (interest, item) pair, with the vectors the lookup needs."""
    started = time.perf_counter()
    interests = artifacts.read_table(run_dir, artifacts.INTERESTS)
    pairs, interest_vectors, item_vectors = interest_items(dataset, interests, config, run_dir / "cache")
    texts = [dataset.item_text(i) for i in pairs["item_index"]]
    picking: dict[str, Any] = {}
    if config.explain_mode == "free":
        system = load_prompt(__file__, "prompts/explainer.md").render(words=config.explain_words)
        requests = [explain_request(system, name, text) for name, text in zip(pairs["interest"], texts)]
        contexts = list(zip(texts, pairs["interest"]))
        drafts = [
            _draft(result, *context, config.explain_words)
            for result, context in zip(client.batch(EXPLAINER, requests, params=_params(config)), contexts)
        ]
        first_flagged = [d is not None and bool(d.absent) for d in drafts]
        _revise(client, requests, drafts, contexts, config)
    else:
        drafts, picking = _grounded_drafts(client, pairs, texts, interest_vectors, config)
        first_flagged = [d is not None and bool(d.absent) for d in drafts]
    rows = [
        {
            "interest": pair.interest,
            "interest_key": pair.interest_key,
            "item": dataset.item_ids()[pair.item_index - 1],
            "similarity": pair.similarity,
            "explanation": draft.note,
            "words": len(draft.note.split()),
            "cut": draft.cut,
            "absent_attributes": draft.absent,
            "revised": draft.revised,
            "interest_vector": interest_vectors[pair.interest_key].tolist(),
            "item_vector": item_vectors[pair.item_index - 1].tolist(),
        }
        for pair, draft in zip(pairs.itertuples(), drafts)
        if draft is not None
    ]
    table = pd.DataFrame(rows)
    artifacts.write_table(run_dir, artifacts.EXPLANATIONS, table)
    flagged = table["absent_attributes"].map(len).gt(0) if len(table) else pd.Series(dtype=bool)
    summary = {
        "explain_mode": config.explain_mode,
        **picking,
        "interests": int(pairs["interest_key"].nunique()),
        "pairs": len(pairs),
        "explained": len(table),
        "failed_calls": len(pairs) - len(table),
        "cut_to_word_limit": int(table["cut"].sum()) if len(table) else 0,
        "words_mean": float(table["words"].mean()) if len(table) else 0.0,
        "absent_attribute_rate_first_draft": sum(first_flagged) / len(table) if len(table) else 0.0,
        "absent_attribute_rate": float(flagged.mean()) if len(table) else 0.0,
        "revised": int(table["revised"].sum()) if len(table) else 0,
        "withheld": int(flagged.sum()),
        "absent_attribute_check": "numbers, capitalised words inside a sentence, and colour/material/property "
        "words that the item text and the interest name do not contain",
        "seconds": time.perf_counter() - started,
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.EXPLAINING, summary)
    return summary


def run_explain_judge(
    dataset: Dataset,
    config: IntentConfig,
    judge_config: JudgeConfig,
    client: LLMClient,
    run_dir: Path,
    seed: int,
    calibrated: dict[str, Calibrated] | None = None,
) -> dict[str, Any]:
    """The judge's pass rate per explanation criterion on a seeded sample of ``explain_judge_pairs`` pairs, and
    with ``calibrated`` (criteria fitted on labels, `judge run`) each usable criterion's calibrated pass rate
    (``<name>_pass_calibrated``); added to explanations.json."""
    table = artifacts.read_table(run_dir, artifacts.EXPLANATIONS)
    sample = table.sample(min(config.explain_judge_pairs, len(table)), random_state=seed) if len(table) else table
    criteria = [key for key, c in CRITERIA.items() if c.task == "explanation"]
    cases = [
        JudgeCase(
            criterion,
            {
                "interest": row.interest,
                "item": dataset.item_text(dataset.item_index(row.item)),
                "explanation": row.explanation,
            },
            meta={"item": row.item},
        )
        for criterion in criteria
        for row in sample.itertuples()
    ]
    verdicts = judge(client, cases, judge_config.max_chars)
    passes: dict[str, Any] = {}
    for criterion in criteria:
        answered = [v for c, v in zip(cases, verdicts) if c.criterion == criterion and v is not None]
        passes[f"{criterion.split('.')[1]}_pass"] = sum(answered) / len(answered) if answered else None
    if calibrated and (fitted := [c for c in criteria if c in calibrated]):
        try:
            scores = log_odds(client, cases, judge_config.max_chars)
        except ScoringUnsupported:
            scores = [None] * len(cases)
        for criterion in fitted:
            answered = [calibrated[criterion].passes(c, sc) for c, sc in zip(cases, scores)
                        if c.criterion == criterion and sc is not None]  # fmt: skip
            passes[f"{criterion.split('.')[1]}_pass_calibrated"] = sum(answered) / len(answered) if answered else None
    summary = artifacts.read_json(run_dir, artifacts.EXPLAINING) | {
        "judged_pairs": len(sample),
        "failed_verdicts": sum(v is None for v in verdicts),
        **passes,
        "absent_attribute_rate_judge": None
        if passes["no_invented_attributes_pass"] is None
        else 1 - passes["no_invented_attributes_pass"],
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.EXPLAINING, summary)
    return summary


@dataclass(frozen=True)
class Explained:
    interest: str
    explanation: str
    similarity: float


class ExplanationLookup:
    """(user, item) -> the explanation under the user's interest closest to the item; dictionary lookups and a few
    dot products, no LLM or encoder call."""

    def __init__(self, table: pd.DataFrame, interests: pd.DataFrame) -> None:
        """``table``'s explanations that name an attribute the item text lacks are never served."""
        self.entries = {
            (row.interest_key, row.item): (row.interest, row.explanation)
            for row in table.itertuples()
            if not len(row.absent_attributes)
        }
        self.interest_vectors = {
            key: np.asarray(vector, dtype=np.float32)
            for key, vector in zip(table["interest_key"], table["interest_vector"])
        }
        self.item_vectors = {
            item: np.asarray(vector, dtype=np.float32) for item, vector in zip(table["item"], table["item_vector"])
        }
        self.user_interests = interests.groupby("user")["name"].apply(lambda n: [interest_key(x) for x in n]).to_dict()

    @classmethod
    def load(cls, run_dir: Path) -> ExplanationLookup:
        return cls(
            artifacts.read_table(run_dir, artifacts.EXPLANATIONS), artifacts.read_table(run_dir, artifacts.INTERESTS)
        )

    def explain(self, user: str, item: str) -> Explained | None:
        """None when the user has no mined interest with an explanation for this item."""
        options = [key for key in self.user_interests.get(str(user), []) if (key, str(item)) in self.entries]
        if not options:
            return None
        vector = self.item_vectors[str(item)]
        similarity = {key: float(self.interest_vectors[key] @ vector) for key in options}
        best = max(options, key=similarity.__getitem__)
        interest, text = self.entries[(best, str(item))]
        return Explained(interest, text, similarity[best])
