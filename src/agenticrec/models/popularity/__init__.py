"""Most-popular baseline."""

from agenticrec.models.popularity.config import PopularityConfig
from agenticrec.models.popularity.model import Popularity

__all__ = ["Popularity", "PopularityConfig"]
