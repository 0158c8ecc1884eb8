"""The text-based sequential recommender's config section: SASRec's settings plus the text encoder and adapter."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agenticrec.models.sasrec.config import SASRecConfig


class TextSeqConfig(SASRecConfig):
    name: Literal["textseq"] = "textseq"  # type: ignore[assignment]  # narrows SASRec's name
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="sentence encoder of each item's key-value text (frozen, computed once)"
    )
    experts: int = Field(8, gt=0, description="adapter: parametric-whitening experts mixed by a softmax gate")
    adapter_dropout: float = Field(0.2, ge=0.0, lt=1.0, description="dropout on the text embeddings in training")
    id_embedding: bool = Field(False, description="add a trainable item-id embedding to each adapted text embedding")
