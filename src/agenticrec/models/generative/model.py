"""Generative retrieval (TIGER, AgenticTagger): an encoder-decoder transformer reads the history as semantic-ID
tokens and writes the next item's ID token by token; batched beam search over the item trie can only emit
valid IDs, and, given allowed items, only those (critique control).

Architecture as in the papers' T5 setting: pre-norm blocks, attention with ``num_heads`` heads of width
``d_kv`` (so the attention width may differ from ``d_model``), ReLU feed-forward, tied input/output token
embeddings. The encoder input is a fixed grid: ``max_items`` history slots of ``max_id_length`` tokens each
(shorter IDs padded), left-padded so the most recent item always sits in the last slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agenticrec.errors import AgenticRecError
from agenticrec.models.base import Model, ModelInputs
from agenticrec.models.generative.config import GenerativeConfig
from agenticrec.models.sequences import left_pad, next_item_examples
from agenticrec.semantic_ids.tokenizer import PAD, SemanticIDTokenizer
from agenticrec.semantic_ids.trie import ItemTrie

CANDIDATES_PER_CHUNK = 4_000_000
"""Beam search handles users in chunks so that (users x beam x fan-out) stays below this many candidates."""


class Attention(nn.Module):
    def __init__(self, config: GenerativeConfig) -> None:
        super().__init__()
        self.heads, self.d_kv, self.dropout = config.num_heads, config.d_kv, config.dropout
        inner = config.num_heads * config.d_kv
        self.query = nn.Linear(config.d_model, inner, bias=False)
        self.key_value = nn.Linear(config.d_model, 2 * inner, bias=False)
        self.out = nn.Linear(inner, config.d_model, bias=False)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` (B, Lq, d) attends to ``memory`` (B, Lk, d); ``mask`` broadcasts to (B, 1, Lq, Lk), True = visible."""
        batch, length, _ = x.shape
        q = self.query(x).view(batch, length, self.heads, self.d_kv).transpose(1, 2)
        k, v = self.key_value(memory).view(batch, memory.shape[1], 2, self.heads, self.d_kv).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(batch, length, -1))


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, optional cross-attention, feed-forward."""

    def __init__(self, config: GenerativeConfig, cross: bool) -> None:
        super().__init__()
        d = config.d_model
        self.self_norm, self.self_attention = nn.LayerNorm(d), Attention(config)
        self.cross_norm = nn.LayerNorm(d) if cross else None
        self.cross_attention = Attention(config) if cross else None
        self.ff_norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(
            nn.Linear(d, config.d_ff), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(config.d_ff, d)
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        memory: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        beams: int = 1,
    ) -> torch.Tensor:
        h = self.self_norm(x)
        x = x + self.dropout(self.self_attention(h, h, mask))
        if self.cross_attention is not None and self.cross_norm is not None:
            # the beams x positions of one user form one query sequence against that user's memory
            h = self.cross_norm(x)
            rows, length, d = h.shape
            h = h.reshape(rows // beams, beams * length, d)
            x = x + self.dropout(self.cross_attention(h, memory, memory_mask).reshape(rows, length, d))
        return x + self.dropout(self.ff(self.ff_norm(x)))


class GenerativeRetrieval(nn.Module, Model):
    config_class: ClassVar[type[GenerativeConfig]] = GenerativeConfig
    decodes_semantic_ids = True
    item_grid: torch.Tensor  # buffer registered in __init__ (declared for the type checker)

    @classmethod
    def create(cls, config: GenerativeConfig, inputs: ModelInputs) -> GenerativeRetrieval:
        return cls(SemanticIDTokenizer(inputs.require_semantic_ids()), config)

    @classmethod
    def protocol_notes(cls, config: GenerativeConfig) -> dict[str, str]:
        return {
            "decoding": f"trie-constrained beam search, beam {config.beam}: the beam is the ranked list, items "
            f"outside it rank below it (MRR and metrics at K > {config.beam} are truncated)"
        }

    def __init__(self, tokenizer: SemanticIDTokenizer, config: GenerativeConfig) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.label = f"generative ({tokenizer.ids.method} IDs)"
        self.n_items = tokenizer.n_items
        self.id_length = tokenizer.max_id_length
        grid = np.zeros((self.n_items + 1, self.id_length), dtype=np.int64)
        for index, tokens in enumerate(tokenizer.item_tokens):
            grid[index, : len(tokens)] = tokens
        self.register_buffer("item_grid", torch.from_numpy(grid), persistent=False)
        self.trie = ItemTrie(tokenizer.item_tokens)
        d = config.d_model
        self.embedding = nn.Embedding(tokenizer.vocab_size, d, padding_idx=PAD)
        self.encoder_position = nn.Embedding(config.max_items * self.id_length, d)
        self.decoder_position = nn.Embedding(self.id_length, d)
        self.encoder = nn.ModuleList(Block(config, cross=False) for _ in range(config.num_layers))
        self.decoder = nn.ModuleList(Block(config, cross=True) for _ in range(config.num_layers))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(config.dropout)
        nn.init.normal_(self.embedding.weight, std=d**-0.5)

    # ---- encoder and decoder ------------------------------------------------------------------------

    def source_tokens(self, histories: torch.Tensor) -> torch.Tensor:
        """Left-padded item indices (B, max_items) -> token grid (B, max_items * id_length), trimmed of
        leading all-padding slots (positions count back from the end, so trimming changes nothing)."""
        used = int((histories > 0).sum(dim=1).max())
        return self.item_grid[histories[:, histories.shape[1] - max(used, 1) :]].flatten(1)

    def encode(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        length = source.shape[1]
        positions = torch.arange(
            self.encoder_position.num_embeddings - length, self.encoder_position.num_embeddings, device=source.device
        )
        x = self.dropout(self.embedding(source) + self.encoder_position(positions)[None])
        mask = (source != PAD)[:, None, None, :]
        for block in self.encoder:
            x = block(x, mask)
        return self.encoder_norm(x), mask

    def decode(self, prefix: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        """Token logits after every position of ``prefix`` (B, beams, T) -> (B, beams, T, vocab)."""
        batch, beams, length = prefix.shape
        rows = prefix.reshape(batch * beams, length)
        x = self.dropout(self.embedding(rows) + self.decoder_position(torch.arange(length, device=rows.device))[None])
        causal = torch.ones(length, length, dtype=torch.bool, device=rows.device).tril()
        for block in self.decoder:
            x = block(x, causal, memory, memory_mask, beams)
        logits = self.decoder_norm(x) @ self.embedding.weight.T
        return logits.view(batch, beams, length, -1)

    def training_examples(self, train: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        histories, targets = next_item_examples(train, self.config.max_items, self.config.examples_per_user)
        if not len(targets):
            raise AgenticRecError("no training examples: every user has fewer than 2 training interactions")
        return histories, targets

    def loss(self, histories: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each target item's ID tokens (EOS included) given the history."""
        memory, memory_mask = self.encode(self.source_tokens(histories))
        target_tokens = self.item_grid[targets]
        prefix = torch.cat([torch.full_like(target_tokens[:, :1], PAD), target_tokens[:, :-1]], dim=1)
        logits = self.decode(prefix[:, None], memory, memory_mask)[:, 0]
        return F.cross_entropy(logits.flatten(0, 1), target_tokens.flatten(), ignore_index=PAD)

    # ---- constrained beam search --------------------------------------------------------------------

    @torch.no_grad()
    def beam_search(
        self,
        histories: torch.Tensor,
        beam: int,
        allowed: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Best ``beam`` items per user as (items, log-probabilities), each (B, beam), best first.

        Only complete IDs of catalogue items come out; with ``allowed`` (B, n_items + 1) booleans, only
        allowed items. ``prior`` (B, vocab_size) is added to the score of each item's first token (a soft
        critique: a log-prior over level-1 tokens). Fewer reachable items than ``beam`` leave item 0 with
        score -inf at the end.
        """
        trie = self.trie
        device = histories.device
        memory, memory_mask = self.encode(self.source_tokens(histories))
        batch = len(histories)
        sums = trie.allowed_prefix_sums(allowed.cpu()) if allowed is not None else None
        nodes = torch.zeros(batch, 1, dtype=torch.long)
        scores = torch.zeros(batch, 1)
        prefix = torch.full((batch, 1, 1), PAD, dtype=torch.long)
        for depth in range(trie.max_depth):
            if depth and bool((trie.leaf_item[nodes] > 0).all()):
                break  # every beam holds a complete ID: further steps would only append padding
            width = nodes.shape[1]
            log_probs = F.log_softmax(self.decode(prefix.to(device), memory, memory_mask)[:, :, -1].float(), -1).cpu()
            child, valid = trie.expand(nodes.flatten())
            fan_out = child.shape[1]
            finished = trie.leaf_item[nodes.flatten()] > 0
            gained = log_probs.flatten(0, 1).gather(1, trie.token[child])
            gained[finished] = 0.0
            if depth == 0 and prior is not None:  # one row per user: the root is each user's only node
                gained = gained + prior.gather(1, trie.token[child])
            candidates = scores.flatten()[:, None] + gained
            candidates[~valid] = -torch.inf
            candidates = candidates.view(batch, width * fan_out)
            child = child.view(batch, width * fan_out)
            if sums is not None:
                candidates[~trie.node_allowed(sums, child)] = -torch.inf
            scores, best = candidates.topk(min(beam, width * fan_out), dim=1)
            parents = best // fan_out
            nodes = child.gather(1, best)
            carried = finished.view(batch, width).gather(1, parents)  # a finished ID only appends padding
            step_tokens = torch.where(carried, PAD, trie.token[nodes])
            prefix = torch.cat(
                [prefix.gather(1, parents[..., None].expand(-1, -1, prefix.shape[2])), step_tokens[..., None]], dim=2
            )
        items = trie.leaf_item[nodes]
        items[~torch.isfinite(scores)] = 0
        return items, scores

    def _chunks(self, count: int, beam: int) -> Iterator[slice]:
        size = max(1, CANDIDATES_PER_CHUNK // (beam * self.trie.max_fan_out))
        for start in range(0, count, size):
            yield slice(start, start + size)

    @torch.no_grad()
    def recommend(
        self,
        histories: list[np.ndarray],
        k: int | None = None,
        allowed: np.ndarray | None = None,
        prior: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (default: beam width) items and their beam scores per history; ``allowed`` is a boolean
        mask over item indices, (n_items + 1,) for everyone or (len(histories), n_items + 1) per user;
        ``prior`` (len(histories), vocab_size) is a log-prior added to each item's first token (see
        `beam_search`)."""
        beam = max(k or self.config.beam, 1)
        device = self.embedding.weight.device
        padded = left_pad(histories, self.config.max_items)
        mask = None
        if allowed is not None:
            mask = torch.as_tensor(np.broadcast_to(allowed, (len(histories), self.n_items + 1)).copy())
        items, scores = [], []
        for part in self._chunks(len(histories), beam):
            bias = None if prior is None else torch.as_tensor(prior[part], dtype=torch.float32)
            found, score = self.beam_search(padded[part].to(device), beam, None if mask is None else mask[part], bias)
            items.append(found)
            scores.append(score)
        return torch.cat(items).numpy(), torch.cat(scores).numpy()

    @torch.no_grad()
    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        """Beam scores for the ``beam`` decoded items, -inf for every other item (the ranking is the beam's)."""
        items, scores = self.recommend(histories)
        out = torch.full((len(histories), self.n_items + 1), -torch.inf)
        found = torch.as_tensor(items)
        out.scatter_(1, found, torch.as_tensor(scores, dtype=torch.float32))
        out[:, 0] = -torch.inf
        return out
