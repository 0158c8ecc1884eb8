"""TAR's config section (RecGPT §2.3 settings where the report gives them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agenticrec.models.base import ModelSection

BETA_GRID = [round(0.1 * step, 1) for step in range(11)]


class TARConfig(ModelSection):
    """Item, user and tag towers trained with L_col + alpha·L_tag + (1 - alpha)·L_cate; scores fused by beta."""

    name: Literal["tar"] = "tar"
    hidden_size: int = Field(64, gt=0, description="width of the item, user and tag vectors")
    mlp_size: int = Field(128, gt=0, description="hidden width of each tower's MLP")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    max_len: int = Field(50, gt=0, description="most recent history items the user tower pools")
    recent: int = Field(3, gt=0, description="most recent items pooled separately (the short-term interest)")
    tags: Literal["category", "descriptors", "table"] = Field(
        "category",
        description="item tags for training and for a user's default tags: the levels of the item's category path "
        "below the root, the descriptor names of the run's semantic IDs (`semantic_ids.method: descriptors`), or "
        "`tag_table` (e.g. LLM tags from `agenticrec intent item-tags`)",
    )
    tag_table: Path | None = Field(
        None, description="tags: table — a Parquet table of item_id and tags (a list of phrases per item)"
    )
    tag_items: int = Field(3, gt=0, description="a user's tags are the tags of this many most recent items")
    tag_aggregation: Literal["mean", "max"] = Field("mean", description="how a user's tag scores of an item combine")
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="weight of L_tag against L_cate")
    semantic_weight: float = Field(
        1.0, ge=0.0, description="weight of the tag losses against L_col; 0 trains the plain two-tower model"
    )
    beta: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="score = beta·user-item + (1 - beta)·tag-item; None: the best of `beta_grid` on validation "
        "NDCG@10 (training validates at 0.5)",
    )
    beta_grid: list[float] = Field(default_factory=lambda: list(BETA_GRID))
    negatives: int = Field(256, gt=0, description="sampled negatives per batch, shared by its examples")
    negative_sampling: Literal["uniform", "popularity"] = Field(
        "popularity",
        description="draw negatives in proportion to training popularity (count + 1, like in-batch negatives, so "
        "popular items are pushed down harder; with logq, the default since it measured better on Beauty: "
        "BENCHMARKS.md), or uniformly",
    )
    logq: bool = Field(
        True,
        description="subtract log Q(item), the sampling probability, from every candidate's logit (the sampling-bias "
        "correction of Yi et al. 2019); a constant under uniform sampling",
    )
    temperature: float = Field(0.07, gt=0.0, description="scores are cosine similarities divided by this")

    @model_validator(mode="after")
    def _table_given(self) -> TARConfig:
        if (self.tags == "table") != (self.tag_table is not None):
            raise ValueError("tags: table goes with tag_table (a Parquet file of item_id and tags), and only with it")
        return self

    @field_validator("beta_grid")
    @classmethod
    def _grid_in_range(cls, grid: list[float]) -> list[float]:
        if not grid or any(not 0.0 <= b <= 1.0 for b in grid):
            raise ValueError("beta_grid needs at least one value, each in [0, 1]")
        return grid
