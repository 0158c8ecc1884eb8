"""The model registry: adding a model is one package ``models/<name>/`` plus one line in ``MODELS``.

``MODELS`` is the only place a model is named; the ``model:`` config union is built from it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag

from agenticrec.errors import ConfigError
from agenticrec.models.base import Model, ModelSection
from agenticrec.models.generative import GenerativeRetrieval
from agenticrec.models.popularity import Popularity
from agenticrec.models.sasrec import SASRec

MODELS: dict[str, type[Model]] = {
    "popularity": Popularity,
    "sasrec": SASRec,
    "generative": GenerativeRetrieval,
}
DEFAULT_MODEL = "sasrec"


def _model_name(value: Any) -> str:
    """Which model section this is; a section without ``name`` is the default model."""
    return value.get("name", DEFAULT_MODEL) if isinstance(value, dict) else value.name


ModelConfig = Annotated[
    tuple(Annotated[cls.config_class, Tag(name)] for name, cls in MODELS.items()),  # type: ignore[valid-type]
    Discriminator(_model_name),
]
"""The ``model:`` section: one registered model's config, chosen by its ``name``."""


def default_model_config() -> ModelSection:
    return MODELS[DEFAULT_MODEL].config_class()


def model_class(name: str) -> type[Model]:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; registered: {', '.join(MODELS)}") from None
