"""SASRec (Kang & McAuley, 2018): a causal self-attention encoder over the item sequence.

Three training losses, reported separately because published numbers differ by loss:
- ``bce``: binary cross-entropy with one negative per position, drawn uniformly from the items outside the user's
  sequence, as in the original paper and behind the SASRec figures quoted by TIGER and AgenticTagger.
- ``ce``: cross-entropy over the full catalogue (full softmax), which is markedly stronger.
- ``sampled_softmax``: cross-entropy over the target and a few hundred uniformly sampled items, the loss behind
  the SASRec+SS figures of the 2025 eSASRec study; much cheaper than ``ce`` on large catalogues.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agenticrec.models.base import Model, ModelInputs
from agenticrec.models.sasrec.config import SASRecConfig
from agenticrec.models.sequences import left_pad
from agenticrec.semantic_ids.tokenizer import SemanticIDTokenizer


def _init_weights(module: nn.Module) -> None:
    """BERT-style initialisation (normal weights with std 0.02, zero biases), as in S3-Rec and RecBole."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.MultiheadAttention):
        nn.init.normal_(module.in_proj_weight, std=0.02)
        nn.init.zeros_(module.in_proj_bias)
    if isinstance(module, nn.Embedding) and module.padding_idx is not None:
        with torch.no_grad():
            module.weight[module.padding_idx].zero_()


class SASRec(nn.Module, Model):
    """Architecture as in the S3-Rec code base behind the published Amazon figures: learned positions, post-norm
    blocks with a 4x GELU feed-forward layer, dropout on embeddings, attention and feed-forward outputs, and
    the item embedding table shared between input and output."""

    config_class: ClassVar[type[SASRecConfig]] = SASRecConfig
    # Buffers registered in __init__ when feature tokens are given (declared for the type checker).
    feature_ids: torch.Tensor
    feature_offsets: torch.Tensor

    @classmethod
    def uses_semantic_ids(cls, config: SASRecConfig) -> bool:
        return config.semantic_id_features

    @classmethod
    def create(cls, config: SASRecConfig, inputs: ModelInputs) -> SASRec:
        features = None
        if config.semantic_id_features:
            features = SemanticIDTokenizer(inputs.require_semantic_ids()).path_tokens()
        return cls(inputs.n_items, config, features)

    def __init__(self, n_items: int, config: SASRecConfig, feature_tokens: list[list[int]] | None = None) -> None:
        """``feature_tokens[i]``: token ids whose embeddings are added to item ``i``'s (semantic-ID features)."""
        super().__init__()
        self.n_items = n_items
        self.config = config
        self.label = f"SASRec-{config.loss}"
        d = config.hidden_size
        self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.position_embedding = nn.Embedding(config.max_len, d)
        self.embedding_norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            d_model=d,
            nhead=config.num_heads,
            dim_feedforward=4 * d,
            dropout=config.dropout,
            activation="gelu",
            layer_norm_eps=1e-12,
            batch_first=True,
            norm_first=config.pre_norm,
        )
        self.encoder = nn.TransformerEncoder(
            layer,
            num_layers=config.num_layers,
            enable_nested_tensor=False,
            norm=nn.LayerNorm(d, eps=1e-12) if config.pre_norm else None,
        )
        self.apply(_init_weights)
        self.features: nn.EmbeddingBag | None = None
        if feature_tokens is not None:
            lengths = torch.tensor([len(tokens) for tokens in feature_tokens])
            self.register_buffer(
                "feature_ids",
                torch.tensor([t for tokens in feature_tokens for t in tokens], dtype=torch.long),
                persistent=False,
            )
            self.register_buffer(
                "feature_offsets",
                torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]]),
                persistent=False,
            )
            self.features = nn.EmbeddingBag(max(self.feature_ids.tolist(), default=0) + 1, d, mode="sum")
            nn.init.normal_(self.features.weight, std=0.02)

    def training_examples(self, train: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded (inputs, targets) for every user with at least two training items; targets = inputs shifted."""
        usable = [seq for seq in train if len(seq) >= 2]
        inputs = left_pad([seq[:-1] for seq in usable], self.config.max_len)
        targets = left_pad([seq[1:] for seq in usable], self.config.max_len)
        return inputs, targets

    def item_table(self) -> torch.Tensor:
        """Item embeddings (n_items + 1, d): the id embedding, plus the summed feature-token embeddings; in training,
        with ``item_dropout``. One table serves a batch's inputs and outputs."""
        table = self.item_embedding.weight
        if self.features is not None:
            table = table + self.features(self.feature_ids, self.feature_offsets)
        if self.training and self.config.item_dropout > 0:
            table = F.dropout(table, self.config.item_dropout)
        return table

    def encode(self, items: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden state at every position of left-padded ``items`` (batch, length) -> (batch, length, d).

        ``length`` may be shorter than ``max_len``: positions count back from the end, so the last item always
        has position ``max_len - 1`` and trimming a batch's common left padding does not change the result.
        """
        _batch, length = items.shape
        pad = items == 0
        positions = torch.arange(self.config.max_len - length, self.config.max_len, device=items.device)
        table = self.item_table() if table is None else table
        x = self.embedding_norm(table[items] + self.position_embedding(positions)[None])
        x = self.dropout(x) * (~pad)[..., None]
        # A query may see itself and earlier non-padding keys; a padding query sees only itself (its output
        # is ignored, this only keeps the softmax defined).
        causal = torch.ones(length, length, dtype=torch.bool, device=items.device).triu(1)
        diagonal = torch.eye(length, dtype=torch.bool, device=items.device)
        blocked = causal[None] | (pad[:, None, :] & ~diagonal[None])
        blocked = blocked.repeat_interleave(self.config.num_heads, dim=0)
        return self.encoder(x, mask=blocked) * (~pad)[..., None]

    def item_logits(self, hidden: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        return hidden @ (self.item_table() if table is None else table).T

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Next-item loss over every non-padding position; ``targets`` is ``inputs`` shifted left by one."""
        table = self.item_table()
        hidden = self.encode(inputs, table)
        valid = targets > 0
        if self.config.loss == "sampled_softmax":
            return self._sampled_softmax_loss(hidden, table, targets, valid)
        hidden, positives = hidden[valid], targets[valid]
        if self.config.loss == "ce":
            logits = self.item_logits(hidden, table)
            logits[:, 0] = -torch.inf
            return F.cross_entropy(logits, positives)
        negatives = self.sample_negatives(inputs, targets)[valid]
        pos_logit = (hidden * table[positives]).sum(-1)
        neg_logit = (hidden * table[negatives]).sum(-1)
        return F.binary_cross_entropy_with_logits(
            torch.cat([pos_logit, neg_logit]),
            torch.cat([torch.ones_like(pos_logit), torch.zeros_like(neg_logit)]),
        )

    def _sampled_softmax_loss(
        self, all_hidden: torch.Tensor, table: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """Cross-entropy over each target and ``config.negatives`` uniform items drawn for it (per position, as in the
        2025 study, or per sequence and shared by its positions: ``config.negatives_per``). A negative that happens
        to be the target is left out."""
        hidden, positives = all_hidden[valid], targets[valid]
        k = self.config.negatives
        if self.config.negatives_per == "position":
            negatives = torch.randint(1, self.n_items + 1, (len(positives), k), device=targets.device)
            negative = torch.einsum("nd,nkd->nk", hidden, table[negatives])
        else:
            per_row = torch.randint(1, self.n_items + 1, (len(targets), k), device=targets.device)
            negative = (all_hidden @ table[per_row].transpose(1, 2))[valid]
            negatives = per_row[:, None, :].expand(-1, targets.shape[1], -1)[valid]
        negative = negative.masked_fill(negatives == positives[:, None], -torch.inf)
        positive = (hidden * table[positives]).sum(-1, keepdim=True)
        logits = torch.cat([positive, negative], dim=-1)
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))

    def sample_negatives(self, inputs: torch.Tensor, targets: torch.Tensor, redraws: int = 10) -> torch.Tensor:
        """One uniform negative per position of ``targets``, drawn outside the row's own items as in the original
        SASRec code; a draw that hits the row is redrawn up to ``redraws`` times (only rows that hold most of a tiny
        catalogue can keep a clash)."""
        seen = torch.cat([inputs, targets], dim=1)
        negatives = torch.randint(1, self.n_items + 1, targets.shape, device=targets.device)
        for _ in range(redraws):
            clash = (negatives[..., None] == seen[:, None, :]).any(-1)
            if not clash.any():
                break
            negatives[clash] = torch.randint(1, self.n_items + 1, (int(clash.sum()),), device=targets.device)
        return negatives

    @torch.no_grad()
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Scores of every item (column 0 = padding) given each non-empty history."""
        longest = min(max(len(h) for h in histories), self.config.max_len)
        items = left_pad(histories, longest).to(self.item_embedding.weight.device)
        table = self.item_table()  # once: for a text model it is the adapter over the whole catalogue
        return self.item_logits(self.encode(items, table)[:, -1], table)
