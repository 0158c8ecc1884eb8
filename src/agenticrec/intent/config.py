"""The ``intent:`` section: RecGPT's behaviour compression, interest mining and item-tag prediction."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from agenticrec.config import Section
from agenticrec.llm import register_role

INTEREST_MINER = register_role(
    "interest_miner", "RecGPT: mines 3-8 interests, each with a rationale and evidence items, from a user's history."
)
TAG_PREDICTOR = register_role(
    "tag_predictor", "RecGPT: predicts short tags naming kinds of products a user will want next."
)
EXPLAINER = register_role(
    "explainer", "RecGPT: explains in at most 40 words why an item fits one of a user's interests (offline table)."
)
ITEM_TAGGER = register_role(
    "item_tagger", "RecGPT: writes a few short tags per item, TAR's training tags (cached per item)."
)
ITEM_COMPRESSOR = register_role(
    "item_compressor", "RecGPT: rewrites an item's long raw text as a short name (cached per item)."
)


class IntentConfig(Section):
    behaviours: dict[str, str] = Field(
        default_factory=dict,
        description="behaviour value in the data (e.g. a rating) -> behaviour type; unmapped values get "
        "`default_behaviour`",
    )
    default_behaviour: str = Field("interacted", description="the type of an event the mapping does not name")
    reliable: list[str] | None = Field(
        None, description="behaviour types that count as reliable interest signals; None keeps every type"
    )
    item_fields: list[str] = Field(
        default_factory=lambda: ["title", "text", "brand", "category"],
        description="item-level compression: the fields of an item's short form, those the dataset has "
        "(`category` is the leaf of the dataset's category)",
    )
    item_chars: int = Field(
        60, ge=10, description="the first field of an item's short form (its name) is cut to this many characters"
    )
    item_tags: int = Field(3, ge=1, le=10, description="`intent item-tags`: tags per item (role `item_tagger`)")
    item_tag_words: int = Field(4, ge=1, description="`intent item-tags`: a longer tag is removed")
    llm_item_compression: bool = Field(
        False, description="compress items with role `item_compressor` (once per item) instead of the field template"
    )
    position_buckets: list[int] = Field(
        default_factory=lambda: [5, 20],
        description="without timestamps: periods by position from the end (last 5, 6-20, older)",
    )
    prompt_budget: int = Field(2048, ge=64, description="tokens a compressed history may take in a prompt")
    tar_run: Path | None = Field(
        None,
        description="`intent evaluate`: a trained TAR run (same dataset) that retrieves for the sampled users with "
        "their predicted tags, against its own tags of their last items",
    )
    tagger_run: Path | None = Field(
        None, description="a run directory with a tagger vocabulary: its level-1 names are the preset interest list"
    )
    users: int = Field(1000, ge=1, description="seeded sample of test users that intent evaluate works on")
    mining: Literal["llm", "grounded"] = Field(
        "llm",
        description="llm: role `interest_miner` writes the interests; grounded: the user's items grouped by "
        "category (or by level-1 descriptor with `tagger_run`), for models too weak to write",
    )
    min_interests: int = Field(3, ge=1, le=8)
    max_interests: int = Field(8, ge=1, le=12)
    tags: int = Field(
        30,
        ge=1,
        le=60,
        description="K: tags per user; written by role `tag_predictor`, or, when its `choice` is score or calibrated, "
        "the K category names it scores best",
    )
    candidates: int = Field(
        50, ge=2, description="`intent score` / `intent hybrid`: tag candidates the category prior proposes per user"
    )
    hit_ks: list[int] = Field(default_factory=lambda: [10, 30], description="HR@K reported for these K")
    prior_weight: float = Field(
        0.5, ge=0, le=1, description="hybrid: weight of the category-transition prior against the LLM tags' votes"
    )
    embedding_model: str = Field("all-MiniLM-L6-v2", description="embeds tags and items for the tag->category map")
    max_per_category: int = Field(2, ge=1, description="curation: at most this many kept tags per category and user")
    explain_items: int = Field(
        3, ge=1, description="explanations: the catalogue items closest to each mined interest that get one"
    )
    explain_mode: Literal["grounded", "similarity", "free"] = Field(
        "grounded",
        description="explanations: `grounded` = role `explainer` picks, by option scores, the item text's own phrases "
        "that meet the interest (nothing else is written); `similarity` = the same phrases picked by MiniLM cosine to "
        "the interest, no LLM (the baseline); `free` = the LLM writes the note, checked and revised",
    )
    explain_phrases: int = Field(
        6, ge=2, description="grounded and similarity explanations: candidate phrases per pair, closest to the interest"
    )
    explain_words: int = Field(40, ge=5, description="explanations are cut to this many words")
    explain_revisions: int = Field(
        1,
        ge=0,
        description="explanations naming attributes the item text lacks go back to the LLM, with those words named, "
        "this many times; one still flagged stays in the table, marked, and is never served",
    )
    explain_judge_pairs: int = Field(
        300, ge=0, description="explanations: a seeded sample of this many (interest, item) pairs is judged"
    )

    @model_validator(mode="after")
    def _ranges(self) -> IntentConfig:
        if self.min_interests > self.max_interests:
            raise ValueError(f"min_interests {self.min_interests} > max_interests {self.max_interests}")
        if sorted(self.position_buckets) != self.position_buckets or not self.position_buckets:
            raise ValueError("position_buckets must be increasing positions, e.g. [5, 20]")
        if max(self.hit_ks) > self.tags:
            raise ValueError(f"hit_ks {self.hit_ks} go beyond the {self.tags} predicted tags")
        return self
