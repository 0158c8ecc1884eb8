"""The judge's agreement metrics on a fixed table, and human labels kept in SQLite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agenticrec.judge import JudgeCase, agreement
from agenticrec.judge.calibration import calibrate, summarise, usable_judges
from agenticrec.judge.cases import from_frame, to_frame
from agenticrec.judge.labels import LabelStore, case_key
from agenticrec.judge.lexical import CHECKS


def test_agreement_on_a_fixed_table() -> None:
    # 10 cases of one criterion: TP 4, FN 1, FP 1, TN 4 ("passes" is the positive class)
    labels = [True] * 5 + [False] * 5
    verdicts = [True, True, True, True, False, True, False, False, False, False]
    m = agreement(["tag.not_title"] * 10, labels, verdicts)["tag.not_title"]
    assert m["cases"] == 10
    assert m["accuracy"] == pytest.approx(0.8)
    assert m["precision"] == pytest.approx(0.8)
    assert m["recall"] == pytest.approx(0.8)
    assert m["f1"] == pytest.approx(0.8)
    # observed 0.8, chance 0.5 -> kappa (0.8 - 0.5) / (1 - 0.5) = 0.6
    assert m["kappa"] == pytest.approx(0.6)


def test_cases_without_a_label_or_verdict_are_left_out_per_criterion() -> None:
    out = agreement(["a.x", "a.x", "b.y"], [True, None, False], [False, True, None])
    assert out["a.x"]["cases"] == 1 and out["a.x"]["accuracy"] == 0.0
    assert "b.y" not in out


def test_a_judge_that_says_yes_to_everything_has_kappa_zero() -> None:
    m = agreement(["c"] * 4, [True, True, False, False], [True] * 4)["c"]
    assert m["kappa"] == pytest.approx(0.0)
    assert m["recall"] == 1.0 and m["precision"] == 0.5


def test_cases_survive_a_parquet_round_trip(tmp_path: Path) -> None:
    cases = [JudgeCase("tag.not_title", {"history": "h", "tag": "t"}, False, "title", "u1")]
    frame = to_frame(cases)
    frame.to_parquet(tmp_path / "c.parquet")
    import pandas as pd

    assert from_frame(pd.read_parquet(tmp_path / "c.parquet")) == cases


def test_human_labels_are_stored_and_replaced(tmp_path: Path) -> None:
    case = JudgeCase("tag.not_title", {"tag": "t"})
    store = LabelStore(tmp_path / "labels.sqlite")
    store.put(case, True, "ann")
    store.put(case, False, "ann")
    store.close()
    again = LabelStore(tmp_path / "labels.sqlite")
    assert again.labels() == {case_key(case): False}
    again.close()


def biased_judge(n: int, seed: int) -> tuple[list[bool], list[tuple[float, float]]]:
    """Labels, and a judge whose log-odds are the label's signal plus a per-case bias far larger than it; the
    content-free log-odds measure that bias, so only a learned combination of the two separates the classes."""
    rng = np.random.default_rng(seed)
    labels = [bool(k % 2) for k in range(n)]
    bias = rng.normal(0.0, 3.0, n)
    raw = [(1.0 if y else -1.0) + b + rng.normal(0.0, 0.1) for y, b in zip(labels, bias)]
    return labels, [(r, b) for r, b in zip(raw, bias)]


def cases_of(criterion: str, labels: list[bool | None], fields: dict[str, str] | None = None) -> list[JudgeCase]:
    return [JudgeCase(criterion, fields or {"tag": "lip balm"}, label) for label in labels]


def test_calibration_learns_to_subtract_what_the_content_free_case_shows():
    labels, features = biased_judge(120, seed=1)
    raw_only = agreement(["tag.plausible_need"] * 120, labels, [f[0] > 0 for f in features])["tag.plausible_need"]
    fitted = calibrate(cases_of("tag.plausible_need", list(labels)), features, seed=0)["tag.plausible_need"]
    assert raw_only["kappa"] < 0.5  # the bias swamps the raw log-odds
    assert fitted["kappa"] > 0.9 and fitted["usable"] and fitted["cases"] == 60  # held-out half
    assert fitted["weights"]["log_odds"] > 0 > fitted["weights"]["log_odds_content_free"]
    assert "kappa_lexical_only" not in fitted  # this criterion has no lexical check


def test_calibration_weighs_a_lexical_check_beside_the_judge_and_measures_each_alone():
    """A noise judge on explanation.concise, whose padded (failing) explanations the word count separates."""
    rng = np.random.default_rng(3)
    labels = [bool(k % 2) for k in range(120)]
    short, padded = "Fits your interest in lip care: a tinted balm.", " It is one you will reach for again" * 6
    cases = [JudgeCase("explanation.concise", {"explanation": short + ("" if y else padded)}, y) for y in labels]
    noise = [(float(a), float(b)) for a, b in rng.normal(size=(120, 2))]
    fitted = calibrate(cases, noise, seed=0)["explanation.concise"]
    assert fitted["kappa_judge_only"] < 0.4 < 0.9 < fitted["kappa_lexical_only"] and fitted["kappa"] > 0.9
    assert fitted["weights"]["lexical_check"] < 0  # more words, less likely concise
    summary = summarise({"explanation.concise": fitted})
    assert summary["judge_kappa_heldout_mean_judge_only"] == fitted["kappa_judge_only"]
    assert summary["judge_kappa_heldout_mean_lexical_only"] == fitted["kappa_lexical_only"]


def test_a_usable_calibrated_criterion_judges_new_cases():
    rng = np.random.default_rng(4)
    labels = [bool(k % 2) for k in range(120)]
    short, padded = "Fits your interest in lip care: a tinted balm.", " It is one you will reach for again" * 6
    cases = [JudgeCase("explanation.concise", {"explanation": short + ("" if y else padded)}, y) for y in labels]
    cases += [JudgeCase("tag.plausible_need", {"tag": "lip balm"}, y) for y in labels]  # a noise judge: not usable
    noise = [(float(a), float(b)) for a, b in rng.normal(size=(240, 2))]
    judges = usable_judges(cases, noise, seed=0)
    assert set(judges) == {"explanation.concise"}
    concise = judges["explanation.concise"]
    assert concise.passes(JudgeCase("explanation.concise", {"explanation": short}), (0.0, 0.0))
    assert not concise.passes(JudgeCase("explanation.concise", {"explanation": short + padded}), (0.0, 0.0))


def test_lexical_checks_read_the_case_fields():
    history = "Burt's Bees lip balm · Burt's Bees\nMaybelline mascara"
    assert CHECKS["tag.not_history"]({"history": history, "tag": "Burt's Bees lip balm"}) == 1.0
    assert CHECKS["tag.not_history"]({"history": history, "tag": "hand cream"}) == 0.0
    assert CHECKS["tag.not_title"]({"tag": "Maybelline New York Great Lash Mascara, Blackest Black"}) == 8
    item, interest = "Tinted lip balm, SPF 15, cherry", "lip care"
    invented = "Fits your interest in lip care: a waterproof balm."
    assert (
        CHECKS["explanation.no_invented_attributes"]({"explanation": invented, "item": item, "interest": interest}) == 1
    )
    assert CHECKS["explanation.factual"]({"explanation": "lip balm", "item": item, "interest": interest}) == 0.0


def test_calibration_refuses_too_few_labels_and_flags_a_useless_judge():
    rng = np.random.default_rng(0)
    labels: list[bool | None] = [bool(k % 2) for k in range(200)]
    noise = [(float(a), float(b)) for a, b in rng.normal(size=(200, 2))]
    cases = cases_of("interest.grounded", labels[:38]) + cases_of("interest.specific", labels[38:])
    fitted = calibrate(cases, noise, seed=0)
    assert "fewer than 20 labels per class" in fitted["interest.grounded"]["refused"]
    assert "kappa" not in fitted["interest.grounded"]
    assert fitted["interest.specific"]["kappa"] < 0.4 and not fitted["interest.specific"]["usable"]
    summary = summarise(fitted)
    assert summary["judge_criteria_refused"] == 1 and summary["judge_criteria_unusable"] == 1
    assert summary["judge_kappa_heldout_mean"] == fitted["interest.specific"]["kappa"]
    assert summary["judge_kappa_heldout_mean_lexical_only"] == 0.0  # no check: nothing to decide with


def test_calibration_skips_cases_without_scores_or_labels():
    labels, features = biased_judge(100, seed=2)
    gaps: list[tuple[float, float] | None] = [None if k % 10 == 0 else f for k, f in enumerate(features)]
    unknown: list[bool | None] = [None if k % 10 == 1 else y for k, y in enumerate(labels)]
    fitted = calibrate(cases_of("tag.plausible_need", unknown), gaps, seed=0)["tag.plausible_need"]
    assert fitted["development_cases"] + fitted["cases"] == 80
