"""What the judge checks: per task, criteria phrased as yes/no questions ("yes" = the output passes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    task: str  # interest | tag | explanation | signal
    name: str
    question: str

    @property
    def key(self) -> str:
        return f"{self.task}.{self.name}"


CRITERIA: dict[str, Criterion] = {
    c.key: c
    for c in [
        Criterion("interest", "grounded", "Do the evidence items clearly show this interest?"),
        Criterion(
            "interest",
            "specific",
            "Is the interest specific (a kind of product, need or taste), not a vague phrase such as 'shopping'?",
        ),
        Criterion("interest", "not_duplicate", "Is this interest different from each of the user's other interests?"),
        Criterion(
            "tag", "plausible_need", "Is the tag something this user may plausibly want next, given the history?"
        ),
        Criterion("tag", "not_title", "Is the tag a short name for a kind of product rather than a product's title?"),
        Criterion("tag", "not_history", "Is the tag something other than a copy of an item in the history?"),
        Criterion("explanation", "relevant", "Does the explanation connect the item to the user's interest?"),
        Criterion(
            "explanation", "factual", "Does everything the explanation says about the item agree with the item text?"
        ),
        Criterion(
            "explanation",
            "no_invented_attributes",
            "Does the explanation name only attributes that appear in the item text?",
        ),
        Criterion("explanation", "concise", "Is the explanation concise (at most 40 words, no padding)?"),
        Criterion(
            "signal",
            "consistent",
            "Does the generated attribute value agree with the item text, naming nothing the text contradicts?",
        ),
    ]
}
TASKS = sorted({c.task for c in CRITERIA.values()})
