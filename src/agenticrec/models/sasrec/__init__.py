"""SASRec with BCE, full-softmax CE and sampled-softmax losses, optionally with semantic-ID token features."""

from agenticrec.models.sasrec.config import SASRecConfig
from agenticrec.models.sasrec.model import SASRec

__all__ = ["SASRec", "SASRecConfig"]
