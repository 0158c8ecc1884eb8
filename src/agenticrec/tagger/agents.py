"""The architect and annotator agents: their prompts, output models and how their answers are checked.

Every request is a (system, user) pair whose system part holds the instructions and the category list,
so calls about the same node share a prompt prefix; item text goes in the user part, quoted as data.
Category choices are `one_of` the current names, so no answer can name a category outside the list.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import GenericAlias
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, field_validator

from agenticrec.llm import Message, chat, load_prompt, one_of, quote_data, register_role
from agenticrec.tagger.grounding import GroupEvidence
from agenticrec.tagger.vocabulary import Descriptor

ARCHITECT = register_role(
    "architect", "AgenticTagger architect: proposes a node's child descriptors and reviews change proposals."
)
ANNOTATOR = register_role(
    "annotator", "AgenticTagger annotator: labels items with descriptors, proposes changes, writes item keywords."
)
DESCRIPTOR_JUDGE = register_role(
    "descriptor_judge", "AgenticTagger audit: says whether a descriptor fits an item (yes or no)."
)
NONE = "NONE"
"""The annotator's answer when no category fits."""
TOKENS_PER_DESCRIPTOR = 120
"""Generation budget per proposed descriptor (name, description, includes, excludes)."""

Action = Literal["CREATE_NEW_CATEGORY", "EXPAND_EXISTING_CATEGORY", "IGNORE_AS_OUTLIERS"]


Example = Annotated[str, Field(max_length=60)]


class ProposedDescriptor(BaseModel):
    """Bounded lengths keep answers short; grammar-constrained models cannot ramble past them."""

    name: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=300)
    includes: list[Example] = Field(default_factory=list, max_length=4)
    excludes: list[Example] = Field(default_factory=list, max_length=4)

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        name = " ".join(value.split())
        if not name or name.upper() == NONE:
            raise ValueError(f"{value!r} is not a usable category name")
        return name

    def descriptor(self) -> Descriptor:
        """As an unplaced descriptor (id, parent and level are set when it joins the vocabulary)."""
        return Descriptor(id="?", level=1, **self.model_dump())


def proposal_model(min_children: int, max_children: int) -> type[BaseModel]:
    """The architect's initial proposal: between `min_children` and `max_children` distinct descriptors."""

    def distinct(value: list[ProposedDescriptor]) -> list[ProposedDescriptor]:
        names = [d.name.casefold() for d in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"category names must be distinct; repeated: {', '.join(repeated)}")
        return value

    return create_model(
        "InitialProposal",
        descriptors=(list[ProposedDescriptor], Field(min_length=min_children, max_length=max_children)),
        __validators__={"distinct": field_validator("descriptors")(distinct)},
    )


def label_model(names: list[str], *, allow_none: bool, items: int = 1, branching: int = 1) -> type[BaseModel]:
    """What an annotator answers: one name per item (up to `branching` names for a single item)."""
    choice = one_of([*names, NONE] if allow_none else names)
    choices: Any = GenericAlias(list, choice)  # list[choice]; the type is built at run time
    if items > 1:
        return create_model("Labels", labels=(choices, Field(min_length=items, max_length=items)))
    if branching > 1:
        return create_model("Labels", descriptors=(choices, Field(min_length=1, max_length=branching)))
    return create_model("Label", descriptor=(choice, ...))


def labels_of(value: BaseModel) -> list[list[str]]:
    """The chosen names per item, NONE removed, from any `label_model` answer."""
    data = value.model_dump()
    if "labels" in data:
        per_item = [[name] for name in data["labels"]]
    elif "descriptors" in data:
        per_item = [list(dict.fromkeys(data["descriptors"]))]
    else:
        per_item = [[data["descriptor"]]]
    return [[n for n in names if n != NONE] for names in per_item]


def change_model(names: list[str]) -> type[BaseModel]:
    """An annotator's change proposal for a cluster of unassigned items."""
    return create_model(
        "ChangeProposal",
        action=(Action, ...),
        target=(one_of(["", *names]), Field("", description="existing category, for EXPAND_EXISTING_CATEGORY")),
        name=(str, Field("", max_length=60, description="new category name, for CREATE_NEW_CATEGORY")),
        # required, so that constrained decoding writes one: a model left the choice skipped it for every new category
        description=(
            str,
            Field(
                ...,
                min_length=3,
                max_length=300,
                description="the new category's description, the target's refined one, or what the outliers are",
            ),
        ),
        includes=(list[Example], Field(default_factory=list, max_length=4)),
        excludes=(list[Example], Field(default_factory=list, max_length=4)),
        reasoning=(str, Field("", max_length=300)),
    )


class Review(BaseModel):
    approve: bool
    reasoning: str = Field("", max_length=300)


def scope_line(parent: Descriptor | None) -> str:
    """Tells the agents which part of the catalogue a split works on."""
    if parent is None:
        return "The items come from the whole catalogue."
    return f"All items belong to the category {parent.card()}"


def category_list(categories: list[Descriptor]) -> str:
    return "\n".join(f"- {d.card()}" for d in categories)


def items_block(texts: list[str], limit: int) -> str:
    """Several item texts, numbered, inside one quoted data block."""
    lines = [f"{i}. {' '.join(t.split())[:limit]}" for i, t in enumerate(texts, start=1)]
    return quote_data("\n".join(lines), label="items")


def propose_request(parent: Descriptor | None, sample: list[str], n: int, limit: int) -> list[Message]:
    system = load_prompt(__file__, "prompts/architect_propose.md").render(scope=scope_line(parent), n=n)
    return chat(system, items_block(sample, limit))


def evidence_block(groups: list[GroupEvidence]) -> str:
    """Each group's keyphrases and typical titles, numbered, inside one quoted data block."""
    lines = []
    for k, group in enumerate(groups, start=1):
        lines.append(f"Group {k}: keyphrases: {', '.join(group.keyphrases) or '(none)'}")
        lines.append(f"  typical items: {'; '.join(group.titles)}")
    return quote_data("\n".join(lines), label="groups")


def name_groups_request(
    parent: Descriptor | None, groups: list[GroupEvidence], existing: Sequence[str] = ()
) -> list[Message]:
    """One request naming all ``groups``; with ``existing`` categories (groups of items none of them fits), the
    architect is told their names, which it must not repeat."""
    scope = scope_line(parent)
    if existing:
        names = ", ".join(repr(n) for n in existing)
        scope += f"\nThese categories exist already, and the groups hold items none of them fits: {names}. "
        scope += "Never repeat them."
    system = load_prompt(__file__, "prompts/architect_name_groups.md").render(scope=scope, count=len(groups))
    return chat(system, evidence_block(groups))


def name_group_request(
    parent: Descriptor | None, group: GroupEvidence, taken: list[str], rejected: str | None = None, reason: str = ""
) -> list[Message]:
    """One group's naming request, beside its named siblings ``taken``; after a refusal, it gives the ``rejected``
    name and the ``reason``."""
    feedback = f"Your previous name {rejected!r} was rejected: {reason}." if rejected is not None else ""
    system = load_prompt(__file__, "prompts/architect_name_group.md").render(
        scope=scope_line(parent), taken=", ".join(repr(t) for t in taken) or "(none)", feedback=feedback
    )
    return chat(system, evidence_block([group]))


def annotate_request(
    parent: Descriptor | None, categories: list[Descriptor], texts: list[str], *, allow_none: bool, limit: int
) -> list[Message]:
    none_rule = f"If no category fits, answer {NONE}." if allow_none else "Every item fits one of them."
    values: dict[str, Any] = {
        "scope": scope_line(parent),
        "categories": category_list(categories),
        "none_rule": none_rule,
    }
    if len(texts) == 1:
        system = load_prompt(__file__, "prompts/annotate.md").render(**values)
        return chat(system, quote_data(" ".join(texts[0].split())[:limit]))
    system = load_prompt(__file__, "prompts/annotate_many.md").render(**values, count=len(texts))
    return chat(system, items_block(texts, limit))


def change_request(
    parent: Descriptor | None, categories: list[Descriptor], texts: list[str], limit: int
) -> list[Message]:
    system = load_prompt(__file__, "prompts/propose_change.md").render(
        scope=scope_line(parent), categories=category_list(categories)
    )
    return chat(system, items_block(texts, limit))


def review_request(
    parent: Descriptor | None, categories: list[Descriptor], proposal: dict[str, Any], texts: list[str], limit: int
) -> list[Message]:
    shown = {k: v for k, v in proposal.items() if v not in ("", [], None)}
    system = load_prompt(__file__, "prompts/review_change.md").render(
        scope=scope_line(parent),
        categories=category_list(categories),
        count=len(texts),
        proposal=quote_data(json.dumps(shown, ensure_ascii=False), label="proposal"),
    )
    return chat(system, items_block(texts, limit))
