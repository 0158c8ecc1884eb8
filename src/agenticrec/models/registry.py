"""The model registry: adding a model is one package ``models/<name>/`` plus one line in ``MODELS``.

``MODELS`` is the only place a model is named; the ``model:`` config union is built from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

from pydantic import Discriminator, Tag

from agenticrec.errors import ConfigError
from agenticrec.models.base import Model, ModelSection
from agenticrec.models.generative import GenerativeRetrieval
from agenticrec.models.popularity import Popularity
from agenticrec.models.sasrec import SASRec
from agenticrec.models.tar import TAR
from agenticrec.models.textseq import TextSeq

MODELS: dict[str, type[Model]] = {
    "popularity": Popularity,
    "sasrec": SASRec,
    "generative": GenerativeRetrieval,
    "tar": TAR,
    "textseq": TextSeq,
}
DEFAULT_MODEL = "sasrec"


def _model_name(value: Any) -> str:
    """Which model section this is; a section without ``name`` is the default model."""
    return value.get("name", DEFAULT_MODEL) if isinstance(value, dict) else value.name


if TYPE_CHECKING:
    # mypy cannot follow a union built from MODELS at run time; it sees the base every section shares.
    ModelConfig: TypeAlias = ModelSection
else:
    ModelConfig = Annotated[
        # UP007 would drop ``Union`` here: a union over a tuple built at run time has no ``X | Y`` spelling.
        Union[tuple(Annotated[cls.config_class, Tag(name)] for name, cls in MODELS.items())],  # noqa: UP007
        Discriminator(_model_name),
    ]
"""The ``model:`` section: one registered model's config, chosen by its ``name``."""


def default_model_config() -> ModelSection:
    # every registered section defaults ``name`` to its own key; the base class declares it without a default
    return MODELS[DEFAULT_MODEL].config_class.model_validate({})


def model_class(name: str) -> type[Model]:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; registered: {', '.join(MODELS)}") from None
