"""SASRec's config section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agenticrec.models.base import ModelSection


class SASRecConfig(ModelSection):
    name: Literal["sasrec"] = "sasrec"
    loss: Literal["bce", "ce", "sampled_softmax"] = Field(
        "ce",
        description="bce: one sampled negative per position (original SASRec); ce: full-softmax cross-entropy; "
        "sampled_softmax: softmax over the target and `negatives` uniformly sampled items",
    )
    negatives: int = Field(256, gt=0, description="sampled_softmax: negatives per target")
    negatives_per: Literal["position", "sequence"] = Field(
        "sequence",
        description="sampled_softmax: fresh negatives for every target, or one draw per sequence shared "
        "by its positions (cheaper)",
    )
    hidden_size: int = Field(64, gt=0)
    num_layers: int = Field(2, gt=0)
    num_heads: int = Field(2, gt=0)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    item_dropout: float = Field(
        0.0, ge=0.0, lt=1.0, description="dropout on the item embedding table in training (it also scores the outputs)"
    )
    max_len: int = Field(50, gt=1, description="most recent items the model sees")
    pre_norm: bool = Field(
        False, description="pre-norm blocks and a final LayerNorm (original SASRec code) instead of post-norm (S3-Rec)"
    )
    semantic_id_features: bool = Field(
        False,
        description="add the embeddings of the item's semantic-ID tokens (see `semantic_ids:`, resolver "
        "excluded) to its id embedding",
    )
