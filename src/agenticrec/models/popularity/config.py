"""The popularity baseline's config section (it has no settings)."""

from __future__ import annotations

from typing import Literal

from agenticrec.models.base import ModelSection


class PopularityConfig(ModelSection):
    name: Literal["popularity"] = "popularity"
