"""AgenticRS: recommender components as agents with a decision space, an inner reward and what they feed, evolved
individually (seeded random search, Optuna TPE, an LLM proposer, LLM proposals enqueued into TPE) and in
composition (fusion, agent selection, routing by user segment) under the outer, system-level reward."""

from agenticrec.evolve.card import AgentCard, load_card, shipped_cards
from agenticrec.evolve.stage import report, run_evolution

__all__ = ["AgentCard", "load_card", "report", "run_evolution", "shipped_cards"]
