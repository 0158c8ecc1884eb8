"""Agreement of the judge's verdicts with known labels, per criterion (scikit-learn metrics; "passes" is the
positive class)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support


def agreement(
    criteria: Sequence[str], labels: Sequence[bool | None], verdicts: Sequence[bool | None]
) -> dict[str, dict[str, Any]]:
    """Accuracy, precision, recall, F1 and Cohen's kappa per criterion, over cases with a label and a verdict."""
    out: dict[str, dict[str, Any]] = {}
    for criterion in sorted(set(criteria)):
        pairs = [
            (bool(y), bool(v))
            for c, y, v in zip(criteria, labels, verdicts)
            if c == criterion and y is not None and v is not None
        ]
        if not pairs:
            continue
        truth, judged = [y for y, _ in pairs], [v for _, v in pairs]
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, judged, average="binary", pos_label=True, zero_division=0
        )
        one_class = len(set(truth)) == 1 and len(set(judged)) == 1
        out[criterion] = {
            "cases": len(pairs),
            "pass_share_labels": sum(truth) / len(truth),
            "pass_share_judge": sum(judged) / len(judged),
            "accuracy": float(accuracy_score(truth, judged)),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            # kappa is undefined when both raters use one class only; perfect agreement then counts as 1
            "kappa": (1.0 if truth == judged else 0.0) if one_class else float(cohen_kappa_score(truth, judged)),
        }
    return out
