"""RecGPT's user–item–tag tri-tower retrieval (TAR): two-tower scores fused with tag-to-item scores."""

from agenticrec.models.tar.config import TARConfig
from agenticrec.models.tar.model import TAR

__all__ = ["TAR", "TARConfig"]
