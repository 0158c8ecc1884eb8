"""Runs: the run config that composes every layer's section, train-and-evaluate, the tagger and semantic-ID
stages, the run directory's provenance check, reading finished runs back, and the ``Run`` object of the Python API."""

from agenticrec.pipeline.api import ConfiguredRun, Run
from agenticrec.pipeline.config import RunConfig, load_config
from agenticrec.pipeline.provenance import StageRun, stage_run
from agenticrec.pipeline.run import TrainedRun, evaluate_run, load_run, protocol, train_and_evaluate

__all__ = [
    "ConfiguredRun",
    "Run",
    "RunConfig",
    "StageRun",
    "TrainedRun",
    "evaluate_run",
    "load_config",
    "load_run",
    "protocol",
    "stage_run",
    "train_and_evaluate",
]
