"""SASRec with BCE, full-softmax CE and sampled-softmax losses, optionally with semantic-ID token features."""

from agenticrec.models.sasrec.config import SASRecConfig
from agenticrec.models.sasrec.model import SASRec, left_pad

__all__ = ["SASRec", "SASRecConfig", "left_pad"]
