"""The ``augment:`` section: LaMAR's LLM-proposed item signal, generated for every item, and its diversity."""

from __future__ import annotations

from string import ascii_uppercase
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agenticrec.config import Section
from agenticrec.llm import register_role

SIGNAL_PROPOSER = register_role(
    "signal_proposer", "LaMAR: proposes one new item attribute for a domain, with a definition and three examples."
)
SIGNAL_WRITER = register_role("signal_writer", "LaMAR: writes the proposed attribute's value for one item.")
LETTERS = ascii_uppercase
"""The ranker's candidate labels when it answers with a letter."""
RANKER = register_role(
    "ranker", "LaMAR §4.4: ranks 21 candidates (20 random + the next item) after a user's 5 most recent items."
)


class RankerConfig(Section):
    """The LLM-ranker protocol (`agenticrec rank-llm`)."""

    users: int = Field(1000, ge=1, description="seeded test users")
    history: int = Field(5, ge=1, description="most recent history items the LLM sees")
    negatives: int = Field(20, ge=1, description="random candidates beside the true next item")
    words: int = Field(
        10, ge=1, description="each item field in the prompt, and each candidate title scored as the answer, is cut "
        "to its first this many words: the rest of a long title costs prompt time and rarely tells items apart"
    )  # fmt: skip
    answer: Literal["title", "letter"] = Field(
        "title", description="scored modes: the answer scored per candidate, its title or the letter it is listed "
        "under (A, B, ...; one token per candidate, as LlamaRec's verbalizer, so an option costs no prompt time)"
    )  # fmt: skip

    @model_validator(mode="after")
    def _letters_suffice(self) -> RankerConfig:
        if self.answer == "letter" and self.negatives + 1 > len(LETTERS):
            raise ValueError(f"answer=letter labels at most {len(LETTERS)} candidates, not {self.negatives + 1}")
        return self


class AugmentConfig(Section):
    proposals: int = Field(1, ge=1, le=10, description="distinct attributes to propose (near-duplicates are dropped)")
    sample_items: int = Field(10, ge=3, description="random items the proposer sees")
    duplicate_similarity: float = Field(
        0.85, gt=0, le=1, description="a proposal this similar (name + definition embeddings) to a kept one is dropped"
    )
    signal: int = Field(0, ge=0, description="which kept proposal `generate` writes for every item")
    words: int = Field(40, ge=5, description="a generated value is cut to this many words")
    consistency: Literal["lexical", "judge"] = Field(
        "lexical",
        description="how values that contradict the item's metadata are dropped: lexical (numbers, names and "
        "colour/material/property words absent from the item text) or the `judge` role",
    )
    thresholds: list[float] = Field(
        default_factory=lambda: [0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
        description="diversity: cosine thresholds of the pairwise similarity figures",
    )
    crowded_share: float = Field(
        0.1, gt=0, lt=1, description="diversity: an item is crowded when it is similar to more than this share"
    )
    embedding_model: str = Field("all-MiniLM-L6-v2", description="embeds values, titles and categories")
    ranker: RankerConfig = Field(default_factory=RankerConfig)

    @field_validator("thresholds")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        if not values or any(not -1 <= v <= 1 for v in values):
            raise ValueError("thresholds are cosine similarities in [-1, 1]")
        return sorted(values)
