"""Recommendation models: baselines and sequence models, registered in ``models.registry.MODELS``."""
