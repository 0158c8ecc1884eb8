"""The judge calibrated on labels (RecGPT's judge, issue 33): per criterion, a logistic model over what the judge's
scores say, and the criterion's lexical check where it has one, fitted on a development split of labelled cases and
measured by Cohen's kappa on the held-out rest.

The judge's features of a case are its log-odds of "yes" over "no" (mean log-prob per token) for the case, and the
same log-odds for the content-free case (every value replaced by N/A). Contextual calibration subtracts the second
from the first with weight 1; here the weights, and the threshold, are learned from labels instead. Where a criterion
has a lexical check (`lexical.CHECKS`), the model is also fitted on the judge's features alone and on the check
alone, on the same split, so what the LLM adds to the check is measured, not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from agenticrec.judge.agreement import agreement
from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.lexical import CHECKS

MIN_PER_CLASS = 20
"""Fewer labels of either class in the development split and a criterion's fit is refused, not reported."""
USABLE_KAPPA = 0.4
"""A criterion whose held-out kappa stays below this is reported as unusable."""
JUDGE_FEATURES = ("log_odds", "log_odds_content_free")
LEXICAL = "lexical_check"


def fit(criterion: str, x: np.ndarray, y: np.ndarray, dev: np.ndarray, held: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """A logistic model fitted on the development rows, and its agreement with the held-out labels."""
    model = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))
    model.fit(x[dev], y[dev])
    predicted = model.predict(x[held]).astype(bool).tolist()
    return model, agreement([criterion] * len(held), y[held].tolist(), predicted)[criterion]


@dataclass(frozen=True)
class Calibrated:
    """One criterion's fitted model: whether a case passes, from the judge's log-odds (and the lexical check)."""

    criterion: str
    model: Any

    def passes(self, case: JudgeCase, score: tuple[float, float]) -> bool:
        check = CHECKS.get(self.criterion)
        x = [*score, check(case.fields)] if check else [*score]
        return bool(self.model.predict(np.array([x], dtype=float))[0])


def fit_criterion(
    criterion: str, cases: Sequence[JudgeCase], scores: Sequence[tuple[float, float] | None], seed: int, holdout: float
) -> tuple[dict[str, Any], Calibrated | None]:
    """One criterion's fit on the development split and its agreement on the held-out rest (or why no fit was
    made), and the fitted model."""
    rows = [i for i, c in enumerate(cases) if c.criterion == criterion and c.label is not None and scores[i]]
    y = np.array([bool(cases[i].label) for i in rows])
    judged = np.array([scores[i] for i in rows], dtype=float).reshape(len(rows), len(JUDGE_FEATURES))
    counts = {"pass": int(y.sum()), "fail": int(len(y) - y.sum())}
    dev_share = 1.0 - holdout
    if min(counts.values()) * dev_share < MIN_PER_CLASS:
        return {
            "cases": len(rows),
            "labels": counts,
            "refused": f"fewer than {MIN_PER_CLASS} labels per class in the development split "
            f"({counts['pass']} pass and {counts['fail']} fail cases, {dev_share:.0%} of them for development)",
        }, None
    dev, held = train_test_split(np.arange(len(rows)), test_size=holdout, stratify=y, random_state=seed)
    features: tuple[str, ...] = JUDGE_FEATURES
    x, kappa = judged, {}
    if check := CHECKS.get(criterion):
        lexical = np.array([[check(cases[i].fields)] for i in rows], dtype=float)
        kappa = {f"kappa_{name}": fit(criterion, alone, y, dev, held)[1]["kappa"]
                 for name, alone in (("judge_only", judged), ("lexical_only", lexical))}  # fmt: skip
        features, x = (*JUDGE_FEATURES, LEXICAL), np.hstack([judged, lexical])
    model, measured = fit(criterion, x, y, dev, held)
    report = {
        **measured,
        **kappa,
        "development_cases": len(dev),
        "weights": dict(zip(features, model[-1].coef_[0].round(4).tolist(), strict=True)),
        "intercept": round(float(model[-1].intercept_[0]), 4),
        "usable": measured["kappa"] >= USABLE_KAPPA,
    }
    return report, Calibrated(criterion, model)


def calibrate(
    cases: Sequence[JudgeCase], scores: Sequence[tuple[float, float] | None], seed: int, holdout: float = 0.5
) -> dict[str, dict[str, Any]]:
    """Per criterion: the fitted weights and agreement on the held-out split (with the lexical check where the
    criterion has one, and ``kappa_judge_only`` / ``kappa_lexical_only`` beside it), or why no fit was made."""
    return {c: fit_criterion(c, cases, scores, seed, holdout)[0] for c in sorted({c.criterion for c in cases})}


def usable_judges(
    cases: Sequence[JudgeCase], scores: Sequence[tuple[float, float] | None], seed: int, holdout: float = 0.5
) -> dict[str, Calibrated]:
    """The fitted model of every criterion whose held-out kappa makes it usable (the same fit as `calibrate`)."""
    fitted = {c: fit_criterion(c, cases, scores, seed, holdout) for c in sorted({c.criterion for c in cases})}
    return {c: model for c, (report, model) in fitted.items() if model is not None and report["usable"]}


def summarise(calibrated: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Held-out kappa mean and min over the criteria that were fitted, the mean with the judge's features alone
    and with the lexical checks alone (kappa 0 for a criterion without a check: nothing to decide with), and how
    many criteria were refused or unusable."""
    fitted = [m for m in calibrated.values() if "kappa" in m]
    kappas = [m["kappa"] for m in fitted]

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return {
        "judge_kappa_heldout_mean": mean(kappas),
        "judge_kappa_heldout_min": min(kappas) if kappas else None,
        "judge_kappa_heldout_mean_judge_only": mean([m.get("kappa_judge_only", m["kappa"]) for m in fitted]),
        "judge_kappa_heldout_mean_lexical_only": mean([m.get("kappa_lexical_only", 0.0) for m in fitted]),
        "judge_criteria_unusable": sum(not m["usable"] for m in fitted),
        "judge_criteria_refused": sum("refused" in m for m in calibrated.values()),
    }
