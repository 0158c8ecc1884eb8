"""The `semantic_ids:` section of a run config: which item IDs a generative model decodes, or SASRec adds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SemanticIDConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["rkmeans", "descriptors", "categories"] = Field(
        "descriptors",
        description="rkmeans: residual k-means codes of MiniLM item-text embeddings (TIGER-style); descriptors: "
        "AgenticTagger descriptor paths; categories: the catalogue's own category path",
    )
    levels: int = Field(3, ge=1, le=8, description="rkmeans: code levels")
    codes: int = Field(256, ge=2, description="rkmeans: codes per level (capped at the number of items)")
    tagger_run: Path | None = Field(
        None, description="descriptors: run directory holding tagger/assignments.parquet (default: this run)"
    )
    category_field: str = Field("categories", description="categories: item column with 'A > B > C' paths")
    embedding_model: str = Field("all-MiniLM-L6-v2", description="rkmeans: sentence-transformers model")
