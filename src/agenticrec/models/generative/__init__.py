"""Generative retrieval over semantic-ID tokens with trie-constrained batched beam search."""

from agenticrec.models.generative.config import GenerativeConfig
from agenticrec.models.generative.model import GenerativeRetrieval

__all__ = ["GenerativeConfig", "GenerativeRetrieval"]
