"""Recommendation models, one package each, registered in ``models.registry.MODELS``."""

from agenticrec.models.base import Model, ModelInputs, ModelSection, Recommender
from agenticrec.models.registry import MODELS, ModelConfig, default_model_config, model_class

__all__ = [
    "MODELS",
    "Model",
    "ModelConfig",
    "ModelInputs",
    "ModelSection",
    "Recommender",
    "default_model_config",
    "model_class",
]
