"""One real trial on Ray (local, 2 CPUs): a tiny SASRec trained through the pipeline in a Ray worker, its outcome
told to the Optuna study that this process keeps."""

from __future__ import annotations

import pandas as pd
import pytest
from optuna.trial import TrialState

from agenticrec.evolve import load_card
from agenticrec.evolve.study import evolve_agent
from agenticrec.pipeline import load_config

pytest.importorskip("ray")


@pytest.mark.slow
def test_a_trial_runs_on_ray(tmp_path):
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(12)], "title": [f"tea {i}" for i in range(12)]})
    items.to_csv(tmp_path / "items.csv", index=False)
    events = [(f"u{u}", f"i{(u + s) % 12}") for u in range(40) for s in range(5)]
    pd.DataFrame(events, columns=["user_id", "item_id"]).to_csv(tmp_path / "events.csv", index=False)
    config = load_config(
        None,
        [
            "data.name=files",
            f"data.options.items={tmp_path / 'items.csv'}",
            f"data.options.interactions={tmp_path / 'events.csv'}",
            "data.options.columns.timestamp=null",
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
