"""Evidence that ties descriptor names to the items they stand for, and checks that hold a proposal to it.

* Keyphrases: class-based TF-IDF (as in BERTopic) over the item texts of each group: a phrase scores high
  when it is frequent in the group and rare in the other groups. A keyphrase counts only when several
  distinct items of the group contain it.
* Instruction-like text: item fields that read like orders to a model ("ignore all previous instructions")
  are flagged; flagged items are never shown to the architect and never count as evidence.
* Name checks: a proposed name must be short, differ from its siblings, not copy a member's title, be
  supported by the group's keyphrases, and (with its description) not reproduce a span of any single item.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

MAX_NAME_WORDS = 4
SPAN_WORDS = 6
"""A name plus description may not repeat this many consecutive words of a single item's text."""
TITLE_SIMILARITY = 85
"""rapidfuzz ratio (0-100) from which a name counts as a copy of a title."""
SIBLING_SIMILARITY = 90

_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions?|prompts?|rules|above|previous)\b"
    r"|\b(system prompt|you are now|new instructions|act as|jailbreak)\b"
    r"|\b(name|call|label)\s+(every|all|each)\s+(categor|descriptor|group)",
    re.IGNORECASE,
)
_TOKEN = r"[^\W\d_]{2,}(?:-[^\W\d_]+)*"
"""A word of letters, with inner hyphens kept (``sci-fi``); digits are never evidence."""
_WORD = re.compile(_TOKEN)
_FIELD_KEY = re.compile(r"(?:^|;)\s*[\w ]{1,30}:\s")


def instruction_like(text: str) -> bool:
    """Whether an item's text reads like an instruction to the model rather than a description of the item."""
    return _INSTRUCTION.search(text) is not None


def field_values(text: str) -> str:
    """Item text without its field keys (``title: X; genres: Y`` -> ``X Y``): keys are not evidence."""
    return _FIELD_KEY.sub(" ", text)


def title_of(text: str) -> str:
    """The item's title: the text up to the first field separator, without a ``title:`` key."""
    first = text.split(";", 1)[0].strip()
    return first[len("title:") :].strip() if first.casefold().startswith("title:") else first


@dataclass(frozen=True)
class GroupEvidence:
    """What a group of items has in common, for the architect to name and for the checks to hold it to."""

    keyphrases: list[str]  # best first, each contained in at least `min_support` distinct members
    titles: list[str]  # of the members nearest the group's centre
    texts: list[str]  # all member texts (flagged ones included: no name may copy them either)

    def supported(self, word: str) -> bool:
        stem = _stem(word)
        return any(stem in {_stem(w) for w in phrase.split()} for phrase in self.keyphrases)


def keyphrases(groups: Sequence[Sequence[str]], top: int = 8, min_support: int = 2) -> list[list[str]]:
    """The `top` class-based TF-IDF uni- and bigrams of each group of texts (stop words and digits dropped)."""
    groups = [[field_values(t) for t in group] for group in groups]
    docs = [" ".join(group) for group in groups]
    if not any(docs):
        return [[] for _ in groups]
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words="english", token_pattern=rf"(?u)\b{_TOKEN}\b")
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(float)
    except ValueError:  # only stop words
        return [[] for _ in groups]
    vocab = vectorizer.get_feature_names_out()
    words = np.array([len(v.split()) for v in vocab])
    tf = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    idf = np.log1p(counts.sum(1).mean() / np.maximum(counts.sum(0), 1))
    scores = tf * idf
    out = []
    for g, group in enumerate(groups):
        lowered = [" ".join(_WORD.findall(t.casefold())) for t in group]
        phrases: list[str] = []
        for j in np.lexsort((words, -scores[g])):  # best first; on a tie the shorter phrase
            if scores[g, j] <= 0 or len(phrases) == top:
                break
            phrase = str(vocab[j])
            if sum(f" {phrase} " in f" {text} " for text in lowered) >= min_support:
                phrases.append(phrase)
        out.append(phrases)
    return out


@dataclass(frozen=True)
class NameProblem:
    """Why a proposed name cannot stand for its group: a kind to count by, and the message the architect is shown."""

    kind: str  # too_long | repeats_sibling | copies_title | unsupported | repeats_item_text
    message: str


def name_problem(name: str, description: str, evidence: GroupEvidence, siblings: Sequence[str]) -> NameProblem | None:
    """Why a proposed name (and its description) cannot stand for the group; None when it can."""
    words = name.split()
    if len(words) > MAX_NAME_WORDS:
        return NameProblem("too_long", f"the name has {len(words)} words; use at most {MAX_NAME_WORDS}")
    if sibling := repeated_sibling(name, siblings):
        return NameProblem("repeats_sibling", f"the name repeats the sibling category {sibling!r}")
    if title := copied_titles([name], evidence.texts)[0]:
        return NameProblem(
            "copies_title", f"the name copies the title of one item ({title!r}); name what the items share"
        )
    folded = name.casefold()
    content = [w for w in _WORD.findall(folded) if w not in ENGLISH_STOP_WORDS]
    if not any(evidence.supported(w) for w in content):
        return NameProblem(
            "unsupported",
            f"the name is not supported by the group's keyphrases ({', '.join(evidence.keyphrases[:5])})",
        )
    span = _shared_span(f"{name} {description}", evidence.texts)
    if span:
        return NameProblem("repeats_item_text", f"the name or description repeats one item's text ({span!r})")
    return None


def fallback_name(evidence: GroupEvidence, taken: Sequence[str]) -> str | None:
    """The best keyphrase not yet used by a sibling, title-cased; None when there is none."""
    return next((p.title() for p in evidence.keyphrases if not repeated_sibling(p, taken)), None)


def repeated_sibling(name: str, siblings: Sequence[str]) -> str | None:
    """The sibling name that `name` repeats or contains (or is contained in), if any."""
    folded = name.casefold()
    return next((s for s in siblings if fuzz.token_set_ratio(folded, s.casefold()) >= SIBLING_SIMILARITY), None)


def copied_titles(names: Sequence[str], texts: Sequence[str]) -> list[str | None]:
    """Per name, the title among the items' `texts` that it (nearly) copies, or None; a trailing year is ignored."""
    titles = [title_of(t) for t in texts]
    bare = [bare_title(t) for t in titles]
    found = [process.extractOne(n.casefold(), bare, scorer=fuzz.ratio, score_cutoff=TITLE_SIMILARITY) for n in names]
    return [titles[f[2]] if f else None for f in found]


def _stem(word: str) -> str:
    word = word.casefold()
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def bare_title(title: str) -> str:
    """A title without a trailing year or edition in brackets, e.g. ``Titanic (1997)`` -> ``titanic``."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).casefold()


def _shared_span(text: str, sources: Sequence[str]) -> str | None:
    words = _WORD.findall(text.casefold())
    if len(words) < SPAN_WORDS:
        return None
    windows = {" ".join(words[i : i + SPAN_WORDS]) for i in range(len(words) - SPAN_WORDS + 1)}
    for source in sources:
        flat = " ".join(_WORD.findall(source.casefold()))
        for window in windows:
            if window in flat:
                return window
    return None
