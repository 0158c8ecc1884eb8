"""Datasets, loaders and the leave-one-out split."""

from agenticrec.data.dataset import Dataset, EvalSet, LeaveOneOutSplit
from agenticrec.data.registry import DATASETS, load_dataset

__all__ = ["DATASETS", "Dataset", "EvalSet", "LeaveOneOutSplit", "load_dataset"]
