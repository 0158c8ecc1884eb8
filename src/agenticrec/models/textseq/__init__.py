"""A text-based sequential recommender: frozen sentence embeddings of item text, a UniSRec-style adapter, SASRec."""

from agenticrec.models.textseq.config import TextSeqConfig
from agenticrec.models.textseq.model import MoEAdapter, TextSeq, Whitening

__all__ = ["MoEAdapter", "TextSeq", "TextSeqConfig", "Whitening"]
