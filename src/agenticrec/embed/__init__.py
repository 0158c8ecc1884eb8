"""Sentence embeddings of item text and K-medoids distillation of a corpus into diverse samples."""

from agenticrec.embed.distill import kmedoids_indices
from agenticrec.embed.encoder import embed_texts, load_encoder

__all__ = ["embed_texts", "kmedoids_indices", "load_encoder"]
