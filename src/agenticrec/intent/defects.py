"""A labelled judge set by construction: real outputs (label: passes) beside controlled defects (label: fails).

No human labels exist yet, so agreement is measured on defects whose label is known by how they were made:

* interest.grounded: evidence items taken from another sampled user's history;
* interest.specific: the name replaced by a vague one ("Shopping");
* interest.not_duplicate: the user's other interests given a rephrased copy of this one;
* tag.plausible_need: a product kind from a far-off domain;
* tag.not_title: a catalogue item's full title instead of a tag;
* tag.not_history: the short form of an item in the user's history;
* explanation.*: explanations of an interest's first evidence item, written from the item's own fields by a
  template (real), against the same with an
  unrelated interest (relevant), a wrong category (factual), an invented attribute (no_invented_attributes) and
  padding past 40 words (concise).

This measures whether the judge catches these defects; it is not agreement with people (`agenticrec judge label`
collects that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd

from agenticrec.data import Dataset
from agenticrec.intent.config import IntentConfig
from agenticrec.intent.items import leaf, template_names
from agenticrec.judge.cases import JudgeCase

VAGUE_INTERESTS = ["Shopping", "Various products", "General interests", "Things to buy", "Miscellaneous items"]
FAR_TAGS = [
    "lawn mower blades",
    "car battery charger",
    "dog food",
    "fishing reel",
    "drill bits",
    "baby stroller",
    "guitar strings",
    "motor oil",
    "tent stakes",
    "aquarium filter",
    "printer toner",
    "nail polish",
    "golf balls",
    "cat litter",
]
INVENTED = [
    "it is waterproof up to 50 metres",
    "it comes with a lifetime warranty",
    "it is certified vegan and organic",
]
PADDING = (
    " It is honestly one of those things that you will find yourself reaching for again and again, day after day, "
    "week after week, whenever the moment calls for it, and you will be glad you picked it."
)


def history_excerpts(histories: pd.DataFrame, lines: int = 10) -> dict[str, str]:
    """User -> the first ``lines`` lines of the compressed history the prompts showed: what a judge sees of it."""
    return {u: "\n".join(ls[:lines]) for u, ls in zip(histories["user"], histories["prompt_lines"])}


def explanation(interest: str, name: str, category: str) -> str:
    return f"Since you are into {interest.lower()}, you may like {name}, a pick from {category}."


def far_tags(dataset: Dataset) -> list[str]:
    """The far-domain tags whose words appear nowhere in this catalogue's categories."""
    known = dataset.categories()
    categories = " ".join(known if known is not None else []).lower()
    return [t for t in FAR_TAGS if not any(word in categories for word in t.split())]


Fields = dict[str, str]
Defect = tuple[Fields, str] | None  # the defective fields and the defect's name; None where none can be built
Plan = tuple[pd.DataFrame, Callable[[Any], Fields | None], Callable[[Any], Defect]]


class CaseBuilder:
    """Real and defective judge cases from the intent artifacts of one run."""

    def __init__(
        self,
        dataset: Dataset,
        config: IntentConfig,
        histories: pd.DataFrame,
        interests: pd.DataFrame,
        tags: pd.DataFrame,
        seed: int,
    ):
        self.dataset, self.interests, self.tags = dataset, interests, tags
        self.rng = np.random.default_rng(seed)
        self.names = template_names(dataset, config)
        self.categories = dataset.categories()
        self.lines = history_excerpts(histories)
        self.history = {
            u: [int(i) for i in dataset.sequences[ui][:-1]] for u, ui in zip(histories["user"], histories["user_index"])
        }
        self.siblings = interests.groupby("user")["name"].apply(list).to_dict() if len(interests) else {}
        self.far = far_tags(dataset) or FAR_TAGS

    def choice(self, values: list[str]) -> str:
        return values[int(self.rng.integers(len(values)))]

    def evidence(self, ids: list[int]) -> str:
        return "; ".join(self.names[i] for i in ids)

    # ---- interests: real fields and defects -------------------------------------------------------------

    def interest(self, row: Any) -> Fields:
        return {"history": self.lines[row.user], "interest": row.name, "rationale": row.rationale}

    def grounded(self, row: Any) -> Fields:
        return self.interest(row) | {"evidence": self.evidence([self.dataset.index_of[e] for e in row.evidence])}

    def foreign_evidence(self, row: Any) -> Defect:
        donor = self.choice(list(self.history))
        stolen = [i for i in self.history[donor] if i not in self.history[row.user]][: max(len(row.evidence), 2)]
        return (self.interest(row) | {"evidence": self.evidence(stolen)}, "foreign") if stolen else None

    def vague(self, row: Any) -> Defect:
        return self.interest(row) | {"interest": self.choice(VAGUE_INTERESTS)}, "vague"

    def others(self, row: Any) -> list[str]:
        return [n for n in self.siblings[row.user] if n != row.name]

    def distinct_interest(self, row: Any) -> Fields | None:
        others = self.others(row)
        return self.interest(row) | {"other interests": "; ".join(others)} if others else None

    def duplicated(self, row: Any) -> Defect:
        copy = "; ".join([*self.others(row), f"Love of {row.name.lower()}"])
        return self.interest(row) | {"other interests": copy}, "copy"

    # ---- tags ------------------------------------------------------------------------------------------------

    def tag(self, row: Any) -> Fields:
        return {"history": self.lines[row.user], "tag": row.tag}

    def far_tag(self, row: Any) -> Defect:
        return self.tag(row) | {"tag": self.choice(self.far)}, "far_domain"

    def title_tag(self, row: Any) -> Defect:
        item = int(self.rng.integers(self.dataset.n_items)) + 1
        return self.tag(row) | {"tag": self.dataset.title(item)}, "title"

    def history_tag(self, row: Any) -> Defect:
        return self.tag(row) | {"tag": self.names[int(self.rng.choice(self.history[row.user]))]}, "history_item"

    # ---- explanations (template-written; part 2 brings generated ones) --------------------------------------

    def item(self, row: Any) -> tuple[int, str]:
        """The item an interest's explanation is about (its first evidence item) and the item's leaf category."""
        assert self.categories is not None
        item = self.dataset.index_of[row.evidence[0]]
        return item, leaf(self.categories[item - 1])

    def explained(self, row: Any, interest: str | None = None, category: str | None = None) -> Fields:
        item, own = self.item(row)
        text = explanation(interest or row.name, self.names[item], category or own)
        return {"interest": row.name, "item": self.dataset.item_text(item), "explanation": text}

    def unrelated(self, row: Any) -> Defect:
        other = self.choice(list(self.interests["name"]))
        return (self.explained(row, interest=other), "unrelated_interest") if other != row.name else None

    def wrong_category(self, row: Any) -> Defect:
        assert self.categories is not None
        wrong = leaf(self.choice(list(self.categories)))
        return (self.explained(row, category=wrong), "wrong_category") if wrong != self.item(row)[1] else None

    def invented(self, row: Any) -> Defect:
        fields = self.explained(row)
        return fields | {"explanation": fields["explanation"][:-1] + "; " + self.choice(INVENTED) + "."}, "invented"

    def padded(self, row: Any) -> Defect:
        fields = self.explained(row)
        return fields | {"explanation": fields["explanation"] + PADDING}, "padded"

    def plan(self) -> dict[str, Plan]:
        """Criterion -> (the outputs it judges, how a real case is shown, how a defective one is built)."""
        plan: dict[str, Plan] = {
            "interest.grounded": (self.interests, self.grounded, self.foreign_evidence),
            "interest.specific": (self.interests, self.interest, self.vague),
            "interest.not_duplicate": (self.interests, self.distinct_interest, self.duplicated),
            "tag.plausible_need": (self.tags, self.tag, self.far_tag),
            "tag.not_title": (self.tags, self.tag, self.title_tag),
            "tag.not_history": (self.tags, self.tag, self.history_tag),
        }
        if self.categories is not None:
            plan |= {
                "explanation.relevant": (self.interests, self.explained, self.unrelated),
                "explanation.factual": (self.interests, self.explained, self.wrong_category),
                "explanation.no_invented_attributes": (self.interests, self.explained, self.invented),
                "explanation.concise": (self.interests, self.explained, self.padded),
            }
        return plan

    def build(self, per_criterion: int) -> list[JudgeCase]:
        """``per_criterion`` cases per criterion, half real and half defective (fewer where outputs run short): the
        outputs are taken in a seeded order, skipping those a case cannot be built from."""
        cases: list[JudgeCase] = []
        n = per_criterion // 2
        for criterion, (frame, real, defect) in self.plan().items():
            shown = (
                JudgeCase(criterion, fields, True, "real", row.user)
                for row in self.shuffled(frame)
                if (fields := real(row)) is not None
            )
            cases += islice(shown, n)
            defective = (
                JudgeCase(criterion, built[0], False, built[1], row.user)
                for row in self.shuffled(frame)
                if (built := defect(row)) is not None
            )
            cases += islice(defective, n)
        return cases

    def shuffled(self, frame: pd.DataFrame) -> Iterator[Any]:
        """The rows of ``frame`` (named tuples) in a seeded order, drawn when first asked for."""
        rows = list(frame.itertuples())
        for index in self.rng.permutation(len(rows)):
            yield rows[index]
