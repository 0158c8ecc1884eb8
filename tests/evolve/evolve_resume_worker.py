"""Runs a toy random-search study whose trials take a while, to be killed mid-study by test_evolve_resume.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from evolve_testkit import TOY, fake_trial

from agenticrec.evolve import study as study_module
from agenticrec.pipeline import load_config


def slow_trial(*args, **kwargs):
    time.sleep(1.0)  # slow enough that the test kills the worker mid-study, even on a loaded machine
    return fake_trial(*args, **kwargs)


if __name__ == "__main__":
    study_module.run_trial = slow_trial
    run_dir, trials = Path(sys.argv[1]), int(sys.argv[2])
    config = load_config(None, [f"run_dir={run_dir}", "evolve.method=random", f"evolve.trials={trials}"])
    study_module.evolve_agent(config, TOY, progress=False)
