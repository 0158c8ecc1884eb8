"""Interest mining (role ``interest_miner``) and item-tag prediction (role ``tag_predictor``).

Both read a user's compressed history. An interest's evidence is a list of the history's reference numbers;
numbers that are not in the user's history are removed (the interest counts as repaired) and an interest left
without evidence is dropped (counted too), so every kept evidence id is an item of that user's history.

A model too weak to write (the embedded SmolLM2-135M rambles and invents) gets grounded versions: interests are
the groups of the user's items by category (evidence by construction), and tags are the catalogue's category
names ranked by the model's (calibrated) score as the answer, when ``llm.roles.tag_predictor.choice`` scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, create_model, field_validator
from rapidfuzz import fuzz

from agenticrec.intent.config import INTEREST_MINER, TAG_PREDICTOR, IntentConfig
from agenticrec.llm import LLMClient, chat, load_prompt, quote_data

TAG_WORDS = 6
"""A tag longer than this many words is a sentence or a title, not a tag."""
TITLE_SIMILARITY = 90
"""A tag this similar (rapidfuzz ratio, 0-100) to a history item's short form copies it."""
RATIONALE_CHARS = 200
TAG_TOKENS = 8
"""Generation budget per requested tag; an answer cut off at it is asked again with a larger budget (llm client)."""


class MinedInterest(BaseModel):
    name: str = Field(min_length=2, max_length=60)
    rationale: str = Field(min_length=1, max_length=RATIONALE_CHARS)
    evidence: list[int] = Field(min_length=1, max_length=5)

    @field_validator("rationale", mode="before")
    @classmethod
    def _shorten(cls, value: object) -> object:
        """A long rationale is cut rather than re-asked (a grammar keeps to the limit; free text may not)."""
        return value[:RATIONALE_CHARS] if isinstance(value, str) else value


class MinedInterests(BaseModel):
    interests: list[MinedInterest] = Field(min_length=1, max_length=12)


def mined_interests_model(config: IntentConfig) -> type[MinedInterests]:
    """The answer schema with the configured number of interests. A constrained decoder is held to at least
    ``min_interests``; a parsed answer with fewer is kept (and counted), not re-asked."""
    bounds = Field(min_length=1, max_length=config.max_interests, json_schema_extra={"minItems": config.min_interests})
    return create_model("MinedInterests", __base__=MinedInterests, interests=(list[MinedInterest], bounds))


@dataclass
class Interest:
    name: str
    rationale: str
    evidence: list[int]  # internal item indices, all in the user's history
    repaired: bool = False


@dataclass
class MiningOutcome:
    interests: list[Interest] = field(default_factory=list)
    dropped: int = 0
    ok: bool = True


def interest_key(name: str) -> str:
    """What makes two interest names the same interest: case and spacing aside."""
    return " ".join(name.lower().split())


def history_message(lines: list[str], interests: list[Interest] | None = None) -> str:
    """The user message: interests (when given) and the compressed history, quoted as data."""
    text = "\n".join(lines)
    if interests is not None:
        text = "Interests: " + "; ".join(i.name for i in interests) + "\nHistory:\n" + text
    return quote_data(text, "history")


def validate_interests(mined: MinedInterests, refs: dict[int, int], config: IntentConfig) -> MiningOutcome:
    """Map reference numbers back to items, drop invalid evidence and duplicate or evidence-less interests."""
    by_ref = {number: item for item, number in refs.items()}
    outcome = MiningOutcome()
    seen: set[str] = set()
    for raw in mined.interests:
        key = interest_key(raw.name)
        valid = list(dict.fromkeys(by_ref[n] for n in raw.evidence if n in by_ref))
        if not valid or key in seen or len(outcome.interests) == config.max_interests:
            outcome.dropped += 1
            continue
        seen.add(key)
        repaired = len(valid) != len(raw.evidence)
        outcome.interests.append(Interest(raw.name.strip(), raw.rationale.strip(), valid, repaired))
    return outcome


def mine_interests(
    client: LLMClient, histories: list[list[str]], refs: list[dict[int, int]], preset: list[str], config: IntentConfig
) -> list[MiningOutcome]:
    prompt = load_prompt(__file__, "prompts/interest_miner.md").render(
        min_interests=config.min_interests,
        max_interests=config.max_interests,
        preset="\n".join(f"- {name}" for name in preset) if preset else "(none given)",
    )
    requests = [chat(prompt, history_message(lines)) for lines in histories]
    results = client.batch(
        INTEREST_MINER, requests, mined_interests_model(config), params={"max_tokens": 90 * config.max_interests}
    )
    return [
        validate_interests(r.value, user_refs, config) if r.ok and r.value is not None else MiningOutcome(ok=False)
        for r, user_refs in zip(results, refs)
    ]


def tag_lines(text: str) -> list[str]:
    """Tags from a one-per-line answer, without numbering, bullets or quotes. (An answer cut off at its token budget
    never arrives here: the client asks again with a larger budget, then fails the call.)"""
    lines = [line for line in text.splitlines() if line.strip()]
    return [re.sub(r"^\s*(?:[-*•]|\d+[.)])?\s*", "", line).strip().strip("\"',") for line in lines]


def clean_tags(tags: list[str], history_names: list[str], k: int) -> tuple[list[str], int]:
    """The first ``k`` distinct tags that are short and copy no history item; and how many were removed."""
    kept: list[str] = []
    removed = 0
    for tag in tags:
        text = " ".join(tag.split())
        if (
            not text
            or len(text.split()) > TAG_WORDS
            or text.lower() in (t.lower() for t in kept)
            or any(fuzz.ratio(text.lower(), name.lower()) >= TITLE_SIMILARITY for name in history_names)
        ):
            removed += 1
            continue
        kept.append(text)
    return kept[:k], removed


def grounded_interests(items: list[int], groups: dict[int, str], config: IntentConfig) -> MiningOutcome:
    """Interests without an LLM: the user's items grouped by ``groups[item]`` (a category or descriptor name),
    largest groups first (ties: the more recent), up to ``max_interests``; a group's items are its evidence."""
    members: dict[str, list[int]] = {}
    for item in reversed(items):  # most recent first
        members.setdefault(groups[item], [])
        if item not in members[groups[item]]:
            members[groups[item]].append(item)
    ranked = sorted(members, key=lambda name: -len(members[name]))[: config.max_interests]
    return MiningOutcome(
        [Interest(name, f"{len(members[name])} of the user's items", members[name][:5]) for name in ranked]
    )


def rank_tags(
    client: LLMClient,
    histories: list[list[str]],
    interests: list[list[Interest]],
    candidates: list[str],
    config: IntentConfig,
) -> list[tuple[list[str], int] | None]:
    """Per user: the ``k`` candidates with the best (calibrated) score as the answer; None where scoring failed."""
    system = load_prompt(__file__, "prompts/tag_scorer.md").text
    requests = [chat(system, history_message(lines, mined)) for lines, mined in zip(histories, interests)]
    free = chat(system, history_message(["N/A"], []))
    picks = client.choose(TAG_PREDICTOR, requests, [candidates] * len(requests), content_free=[free] * len(requests))
    out: list[tuple[list[str], int] | None] = []
    for pick in picks:
        if pick.index is None:
            out.append(None)
        elif pick.scores is None:  # the backend could not score and generated one choice
            out.append(([candidates[pick.index]], 0))
        else:
            order = sorted(range(len(candidates)), key=lambda j: -pick.scores[j])  # type: ignore[index]
            out.append(([candidates[j] for j in order[: config.tags]], 0))
    return out


def predict_tags(
    client: LLMClient,
    histories: list[list[str]],
    interests: list[list[Interest]],
    history_names: list[list[str]],
    config: IntentConfig,
) -> list[tuple[list[str], int] | None]:
    """Per user: the cleaned tags and how many were removed; None where the call failed."""
    prompt = load_prompt(__file__, "prompts/tag_predictor.md").render(k=config.tags)
    requests = [chat(prompt, history_message(lines, mined)) for lines, mined in zip(histories, interests)]
    results = client.batch(TAG_PREDICTOR, requests, params={"max_tokens": TAG_TOKENS * config.tags})
    return [
        clean_tags(tag_lines(r.value), names, config.tags) if r.ok and isinstance(r.value, str) else None
        for r, names in zip(results, history_names)
    ]
