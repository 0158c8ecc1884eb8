"""Lexical checks of a judge case, for the criteria that have one: a number computed from the case's own words that
the calibrated judge may weigh beside the LLM's log-odds (and without them, to show what the LLM adds)."""

from __future__ import annotations

import re
from collections.abc import Callable

from agenticrec.judge.claims import absent_attributes

WORD = re.compile(r"[a-z0-9]+")
Fields = dict[str, str]


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def largest_overlap(text: str, others: list[str]) -> float:
    """The largest Jaccard overlap of ``text``'s words with any of ``others``' (0 when there are none)."""
    own = words(text)
    return max((len(own & w) / len(own | w) for w in map(words, others) if own | w), default=0.0)


def unsupported_share(text: str, *sources: str) -> float:
    """The share of ``text``'s words that no source contains."""
    own, known = words(text), words(" ".join(sources))
    return len(own - known) / len(own) if own else 0.0


CHECKS: dict[str, Callable[[Fields], float]] = {
    "tag.not_title": lambda f: len(f["tag"].split()),
    "tag.not_history": lambda f: largest_overlap(f["tag"], f["history"].splitlines()),
    "interest.not_duplicate": lambda f: largest_overlap(f["interest"], f.get("other interests", "").split(";")),
    "explanation.concise": lambda f: len(f["explanation"].split()),
    "explanation.factual": lambda f: unsupported_share(f["explanation"], f["item"], f["interest"]),
    "explanation.no_invented_attributes": lambda f: len(absent_attributes(f["explanation"], f["item"], f["interest"])),
}
"""Criterion -> its lexical check: words in a tag or explanation, overlap with the history or with the other
interests, explanation words the item text and the interest do not back, attribute claims they do not contain."""
