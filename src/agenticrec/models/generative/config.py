"""Generative retrieval's config section (TIGER / AgenticTagger settings by default)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agenticrec.models.base import ModelSection


class GenerativeConfig(ModelSection):
    """Encoder-decoder over semantic-ID tokens, decoded by trie-constrained beam search."""

    name: Literal["generative"] = "generative"
    num_layers: int = Field(4, gt=0, description="encoder layers and decoder layers")
    d_model: int = Field(128, gt=0)
    d_ff: int = Field(1024, gt=0)
    num_heads: int = Field(6, gt=0)
    d_kv: int = Field(64, gt=0, description="width of each attention head")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    max_items: int = Field(20, gt=0, description="most recent history items the encoder reads")
    examples_per_user: int | None = Field(
        None,
        gt=0,
        description="train on each user's most recent next-item examples only (None = all); "
        "bounds the cost of long histories on a CPU",
    )
    beam: int = Field(20, gt=0, description="beam width; the ranked list has at most this many items")
