"""kill -9 in the middle of a study, then resume: no finished trial is lost and none is repeated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
from evolve_testkit import TOY, fake_trial
from optuna.trial import TrialState

from agenticrec.evolve import study as study_module
from agenticrec.evolve.study import storage_url
from agenticrec.pipeline import load_config

TRIALS = 10


def finished(run_dir: Path) -> list[optuna.trial.FrozenTrial]:
    [summary] = optuna.get_all_study_summaries(storage_url(run_dir))
    study = optuna.load_study(study_name=summary.study_name, storage=storage_url(run_dir))
    return study.get_trials(states=(TrialState.COMPLETE,))


def count_finished(run_dir: Path) -> int:
    """Finished trials, read straight from the SQLite file (cheap enough to poll while the worker runs)."""
    try:
        with sqlite3.connect(run_dir / "evolve.db", timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_killed_study_resumes_without_losing_or_repeating_trials(tmp_path, monkeypatch):
    worker = Path(__file__).with_name("evolve_resume_worker.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(worker.parent), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(worker), str(tmp_path), str(TRIALS)], env=env)
    deadline = time.monotonic() + 120
    while count_finished(tmp_path) < 3:
        assert process.poll() is None, "the worker exited early"
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.1)
    time.sleep(0.2)  # most likely inside a trial now
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {t.number: t.params for t in finished(tmp_path)}

    monkeypatch.setattr(study_module, "run_trial", fake_trial)
    config = load_config(None, [f"run_dir={tmp_path}", "evolve.method=random", f"evolve.trials={TRIALS}"])
    study = study_module.evolve_agent(config, TOY, progress=False)

    after = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(after) == TRIALS
    assert all(before[n] == {t.number: t.params for t in after}[n] for n in before)  # nothing lost
    configs = [tuple(sorted(t.params.items())) for t in after]
    assert len(set(configs)) == len(configs)  # nothing repeated
    interrupted = [t for t in study.trials if t.state == TrialState.FAIL]
    retried = [t.user_attrs["retry_of"] for t in after if "retry_of" in t.user_attrs]
    assert sorted(retried) == sorted(t.number for t in interrupted)  # a trial cut off by the kill ran again

    memory = study_module.history(study)
    assert [t["number"] for t in memory] == [t.number for t in after]  # the interrupted trial is not remembered
