"""Runs: the run config that composes every layer's section, train-and-evaluate, the tagger and semantic-ID
stages, reading finished runs back, and the ``Run`` object of the Python API."""

from agenticrec.pipeline.api import Run
from agenticrec.pipeline.config import RunConfig, load_config
from agenticrec.pipeline.run import TrainedRun, evaluate_run, load_run, protocol, train_and_evaluate

__all__ = [
    "Run",
    "RunConfig",
    "TrainedRun",
    "evaluate_run",
    "load_config",
    "load_run",
    "protocol",
    "train_and_evaluate",
]
