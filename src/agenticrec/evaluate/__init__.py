"""Metrics and evaluation protocols."""

from agenticrec.evaluate.ranking import (
    evaluate_protocols,
    evaluate_ranking,
    evaluate_variants,
    item_counts,
    mask_histories,
    score_metrics,
)

__all__ = [
    "evaluate_protocols",
    "evaluate_ranking",
    "evaluate_variants",
    "item_counts",
    "mask_histories",
    "score_metrics",
]
