"""Semantic IDs as integer tokens: what the generative model reads and writes, and what SASRec can embed."""

from __future__ import annotations

import numpy as np

from agenticrec.semantic_ids.codes import SemanticIDs

PAD = 0  # also the decoder's start token
EOS = 1  # ends every item ID, so IDs of any length are prefix-free


class SemanticIDTokenizer:
    """Maps every token string of a ``SemanticIDs`` to an integer; item index -> token ids ending in EOS."""

    def __init__(self, ids: SemanticIDs) -> None:
        self.ids = ids
        self.vocabulary: list[str] = ["<pad>", "<eos>"]
        self.token_of: dict[str, int] = {}
        self.item_tokens: list[tuple[int, ...]] = [()]  # index 0 = padding item
        for index in range(1, ids.n_items + 1):
            self.item_tokens.append((*(self._token(t) for t in ids.tokens(index)), EOS))
        self.item_of: dict[tuple[int, ...], int] = {tokens: i for i, tokens in enumerate(self.item_tokens) if i}

    def _token(self, text: str) -> int:
        if text not in self.token_of:
            self.token_of[text] = len(self.vocabulary)
            self.vocabulary.append(text)
        return self.token_of[text]

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def n_items(self) -> int:
        return len(self.item_tokens) - 1

    @property
    def max_id_length(self) -> int:
        return max(len(t) for t in self.item_tokens)

    def encode_history(self, items: np.ndarray, max_items: int) -> list[int]:
        """The last ``max_items`` items' IDs, concatenated (each ends in EOS, which separates them)."""
        return [token for item in items[-max_items:] for token in self.item_tokens[int(item)]]

    def decode(self, tokens: tuple[int, ...] | list[int]) -> int:
        """The item index whose whole ID is ``tokens`` (trailing PADs ignored), or 0 when none is."""
        trimmed = tuple(tokens)
        while trimmed and trimmed[-1] == PAD:
            trimmed = trimmed[:-1]
        return self.item_of.get(trimmed, 0)

    def path_tokens(self) -> list[list[int]]:
        """Per item index the token ids of its path without resolver and EOS (for feature embeddings)."""
        return [list(tokens[:-2]) for tokens in self.item_tokens]
