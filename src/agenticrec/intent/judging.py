"""The judge stage on intent outputs: agreement on a constructed labelled set, human labels, and curation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.intent import artifacts
from agenticrec.intent.config import IntentConfig
from agenticrec.intent.curation import curate
from agenticrec.intent.defects import CaseBuilder, history_excerpts
from agenticrec.intent.stage import category_mapper
from agenticrec.io import atomic_path, write_json
from agenticrec.judge import JudgeCase, agreement, calibration, judge
from agenticrec.judge.cases import from_frame, to_frame
from agenticrec.judge.config import JudgeConfig
from agenticrec.judge.labels import LabelStore, case_key
from agenticrec.judge.verdicts import log_odds
from agenticrec.llm import LLMClient, ScoringUnsupported

CASES = "cases.parquet"  # the constructed set with labels and verdicts
AGREEMENT = "agreement.json"
LABELS = "labels.sqlite"
HUMAN_AGREEMENT = "human_agreement.json"
CALIBRATION = (
    "per criterion, logistic regression on the yes/no log-odds of the case and of its content-free version, plus the "
    "criterion's lexical check where it has one (then also fitted on each alone), fitted on a stratified half of the "
    "labelled cases (seed {seed}), kappa on the other half"
)
TAG_CRITERIA = ("tag.plausible_need", "tag.not_title", "tag.not_history")


def judge_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "judge"


def _inputs(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        artifacts.read_table(run_dir, artifacts.HISTORIES),
        artifacts.read_table(run_dir, artifacts.INTERESTS),
        artifacts.read_table(run_dir, artifacts.TAGS),
    )


def summarise(per_criterion: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kappas = [m["kappa"] for m in per_criterion.values()]
    return {
        "judge_kappa_min": min(kappas) if kappas else None,
        "judge_kappa_mean": sum(kappas) / len(kappas) if kappas else None,
        "judge_accuracy_mean": (
            sum(m["accuracy"] for m in per_criterion.values()) / len(per_criterion) if per_criterion else None
        ),
    }


def run_judge(
    dataset: Dataset,
    intent: IntentConfig,
    config: JudgeConfig,
    client: LLMClient,
    run_dir: Path,
    seed: int,
) -> dict[str, Any]:
    """Build the labelled set (real outputs and controlled defects), judge it, and measure agreement."""
    started = time.perf_counter()
    histories, interests, tags = _inputs(run_dir)
    cases = CaseBuilder(dataset, intent, histories, interests, tags, seed).build(config.cases_per_criterion)
    if not cases:
        raise AgenticRecError(f"{run_dir}: no interests or tags to judge; run `agenticrec intent mine` and `tags`")
    verdicts = judge(client, cases, config.max_chars)
    try:  # answered from the ledger when the judge chose by (calibrated) scores
        features: list[tuple[float, float] | None] = log_odds(client, cases, config.max_chars)
        unscored = None
    except ScoringUnsupported as err:
        features, unscored = [None] * len(cases), str(err)
    frame = to_frame(cases).assign(
        verdict=verdicts,
        log_odds=[None if f is None else f[0] for f in features],
        log_odds_content_free=[None if f is None else f[1] for f in features],
    )
    with atomic_path(judge_dir(run_dir) / CASES) as tmp:
        frame.to_parquet(tmp, index=False)
    criteria, labels = [c.criterion for c in cases], [c.label for c in cases]
    per_criterion = agreement(criteria, labels, verdicts)
    calibrated = calibration.calibrate(cases, features, seed)
    result = {
        "summary": summarise(per_criterion) | calibration.summarise(calibrated),
        "criteria": per_criterion,
        "calibrated": calibrated,
        "calibration": CALIBRATION.format(seed=seed) + (f"; not fitted: {unscored}" if unscored else ""),
        "cases": len(cases),
        "failed_calls": sum(v is None for v in verdicts),
        "labels": "by construction: real outputs pass, controlled defects fail (see intent/defects.py)",
        "choice_mode": client.config.role("judge").choice,
        "wall_seconds": time.perf_counter() - started,
        "llm": client.usage.as_dict(),
    }
    write_json(judge_dir(run_dir) / AGREEMENT, result)
    return result


def stored_cases(run_dir: Path) -> tuple[list[JudgeCase], list[tuple[float, float] | None]]:
    """The judged cases of a run and their stored log-odds (None where a case has none)."""
    frame = judged_cases(run_dir)
    scores = [
        None if pd.isna(a) or pd.isna(b) else (float(a), float(b))
        for a, b in zip(frame["log_odds"], frame["log_odds_content_free"])
    ]
    return from_frame(frame), scores


def recalibrate(run_dir: Path, seed: int) -> dict[str, Any]:
    """Fit the calibration again on the judged cases (their labels and stored log-odds; no LLM call) and update
    agreement.json, e.g. after the calibration's features changed."""
    calibrated = calibration.calibrate(*stored_cases(run_dir), seed)
    result = json.loads((judge_dir(run_dir) / AGREEMENT).read_text())
    result["calibrated"] = calibrated
    result["summary"] |= calibration.summarise(calibrated)
    result["calibration"] = CALIBRATION.format(seed=seed)
    write_json(judge_dir(run_dir) / AGREEMENT, result)
    return result


def calibrated_judges(run_dir: Path, seed: int) -> dict[str, calibration.Calibrated]:
    """The usable calibrated criteria of a run's judged cases; none when the run has no judged cases."""
    if not (judge_dir(run_dir) / CASES).is_file():
        return {}
    return calibration.usable_judges(*stored_cases(run_dir), seed)


def judged_cases(run_dir: Path) -> pd.DataFrame:
    path = judge_dir(run_dir) / CASES
    if not path.is_file():
        raise AgenticRecError(f"no {CASES} at {path}; run `agenticrec judge run` first")
    return pd.read_parquet(path)


def human_agreement(run_dir: Path) -> dict[str, Any]:
    """Agreement of the judge's verdicts with the labels a person gave in `agenticrec judge label`."""
    frame = judged_cases(run_dir)
    store = LabelStore(judge_dir(run_dir) / LABELS)
    try:
        human = store.labels()
    finally:
        store.close()
    cases = from_frame(frame)
    rows = [(c.criterion, human[case_key(c)], v) for c, v in zip(cases, frame["verdict"]) if case_key(c) in human]
    if not rows:
        raise AgenticRecError(f"{run_dir}: no human labels yet; run `agenticrec judge label {run_dir}`")
    per_criterion = agreement(
        [r[0] for r in rows], [r[1] for r in rows], [None if pd.isna(r[2]) else r[2] for r in rows]
    )
    result = {"summary": summarise(per_criterion), "criteria": per_criterion, "labelled": len(rows)}
    write_json(judge_dir(run_dir) / HUMAN_AGREEMENT, result)
    return result


def cases_to_label(run_dir: Path, sample: int, seed: int) -> tuple[list[JudgeCase], LabelStore]:
    """A seeded sample of judged cases that have no human label yet, and the store to write labels to."""
    cases = from_frame(judged_cases(run_dir))
    store = LabelStore(judge_dir(run_dir) / LABELS)
    done = store.labels()
    order = pd.Series(range(len(cases))).sample(frac=1.0, random_state=seed)
    return [cases[i] for i in order if case_key(cases[i]) not in done][:sample], store


def run_curate(
    dataset: Dataset,
    intent: IntentConfig,
    config: JudgeConfig,
    client: LLMClient,
    run_dir: Path,
    seed: int,
    users: int,
) -> dict[str, Any]:
    """Judge every tag of the first ``users`` sampled users on the tag criteria; write the curated training set."""
    histories, interests, tags = _inputs(run_dir)
    chosen = set(list(histories["user"])[:users])
    tags = tags[tags["user"].isin(chosen)]
    lines = history_excerpts(histories)
    cases = [
        JudgeCase(criterion, {"history": lines[row.user], "tag": row.tag}, user=row.user)
        for row in tags.itertuples()
        for criterion in TAG_CRITERIA
    ]
    verdicts = judge(client, cases, config.max_chars)
    passes: dict[tuple[str, str], bool] = {}
    for case, verdict in zip(cases, verdicts):
        key = (case.user, case.fields["tag"])
        passes[key] = passes.get(key, True) and verdict is True
    mapper = category_mapper(dataset, intent, run_dir, seed)
    summary = curate(histories, interests, tags, passes, mapper, intent.max_per_category, run_dir)
    return {"users": len(chosen), "tags_judged": len(passes), **summary, "llm": client.usage.as_dict()}
