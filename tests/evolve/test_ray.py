"""One real trial on Ray (local, 2 CPUs): a tiny SASRec trained through the pipeline in a Ray worker, its outcome
told to the Optuna study that this process keeps."""

from __future__ import annotations

import pytest
from evolve_testkit import tiny_shop
from optuna.trial import TrialState

from agenticrec.evolve.card import load_card
from agenticrec.evolve.study import evolve_agent
from agenticrec.pipeline import load_config

pytest.importorskip("ray")


@pytest.mark.slow
def test_a_trial_runs_on_ray(tmp_path):
    config = load_config(
        None,
        [
            *tiny_shop(tmp_path),
            f"run_dir={tmp_path / 'evolve'}",
            "evolve.method=random",
            "evolve.trials=2",
            "evolve.executor=ray",
            "evolve.ray_workers=2",
            'evolve.proxy=["train.epochs=1", "model.hidden_size=8", "model.max_len=5"]',
        ],
    )
    study = evolve_agent(config, load_card("sasrec"), progress=False)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 2 and complete[0].params == load_card("sasrec").space.default()
    assert all(0 <= t.value <= 1 and "valid" in t.user_attrs for t in complete)
    assert (tmp_path / "evolve" / "trials" / study.study_name / "0" / "metrics.json").is_file()
