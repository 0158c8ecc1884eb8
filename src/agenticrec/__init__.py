"""agenticrec: LLM agents that build item features, user-intent signals and explanations for recommenders."""

__version__ = "0.1.0"
