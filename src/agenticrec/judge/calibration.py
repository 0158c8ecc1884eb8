"""The judge calibrated on labels (RecGPT's judge, issue 33): per criterion, a logistic model over what the judge's
scores say, fitted on a development split of labelled cases and measured by Cohen's kappa on the held-out rest.

The features of a case are the judge's log-odds of "yes" over "no" (mean log-prob per token) for the case, and the
same log-odds for the content-free case (every value replaced by N/A). Contextual calibration subtracts the second
from the first with weight 1; here the weights, and the threshold, are learned from labels instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from agenticrec.judge.agreement import agreement

MIN_PER_CLASS = 20
"""Fewer labels of either class in the development split and a criterion's fit is refused, not reported."""
USABLE_KAPPA = 0.4
"""A criterion whose held-out kappa stays below this is reported as unusable."""
FEATURES = ("log_odds", "log_odds_content_free")


def calibrate(
    criteria: Sequence[str],
    labels: Sequence[bool | None],
    features: Sequence[tuple[float, float] | None],
    seed: int,
    holdout: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """Per criterion: the fitted weights and agreement on the held-out split, or why no fit was made."""
    out: dict[str, dict[str, Any]] = {}
    for criterion in sorted(set(criteria)):
        rows = [
            i for i, c in enumerate(criteria) if c == criterion and labels[i] is not None and features[i] is not None
        ]
        y = np.array([bool(labels[i]) for i in rows])
        x = np.array([features[i] for i in rows], dtype=float)
        counts = {"pass": int(y.sum()), "fail": int(len(y) - y.sum())}
        dev_share = 1.0 - holdout
        if min(counts.values()) * dev_share < MIN_PER_CLASS:
            out[criterion] = {
                "cases": len(rows),
                "labels": counts,
                "refused": f"fewer than {MIN_PER_CLASS} labels per class in the development split "
                f"({counts['pass']} pass and {counts['fail']} fail cases, {dev_share:.0%} of them for development)",
            }
            continue
        dev, held = train_test_split(np.arange(len(rows)), test_size=holdout, stratify=y, random_state=seed)
        model = LogisticRegression(class_weight="balanced").fit(x[dev], y[dev])
        predicted = model.predict(x[held]).astype(bool).tolist()
        truth = y[held].tolist()
        measured = agreement([criterion] * len(held), truth, predicted)[criterion]
        out[criterion] = {
            **measured,
            "development_cases": len(dev),
            "weights": dict(zip(FEATURES, model.coef_[0].round(4).tolist(), strict=True)),
            "intercept": round(float(model.intercept_[0]), 4),
            "usable": measured["kappa"] >= USABLE_KAPPA,
        }
    return out


def summarise(calibrated: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Held-out kappa mean and min over the criteria that were fitted, and how many were refused or unusable."""
    kappas = [m["kappa"] for m in calibrated.values() if "kappa" in m]
    return {
        "judge_kappa_heldout_mean": sum(kappas) / len(kappas) if kappas else None,
        "judge_kappa_heldout_min": min(kappas) if kappas else None,
        "judge_criteria_unusable": sum(not m["usable"] for m in calibrated.values() if "usable" in m),
        "judge_criteria_refused": sum("refused" in m for m in calibrated.values()),
    }
