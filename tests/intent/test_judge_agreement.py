"""The judge's agreement metrics on a fixed table, and human labels kept in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from agenticrec.judge import JudgeCase, agreement
from agenticrec.judge.cases import from_frame, to_frame
from agenticrec.judge.labels import LabelStore, case_key


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
