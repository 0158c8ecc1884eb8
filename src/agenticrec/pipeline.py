"""Train-and-evaluate runs: load data, fit a registered model, evaluate valid and test, write the run directory."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agenticrec.config import RunConfig, load_config, save_config
from agenticrec.data import Dataset, load_dataset
from agenticrec.data.dataset import LeaveOneOutSplit, Stage
from agenticrec.errors import AgenticRecError
from agenticrec.evaluate import evaluate_protocols, evaluate_ranking, item_counts
from agenticrec.io import write_json
from agenticrec.models.registry import MODELS, Recommender
from agenticrec.models.training import seed_everything


def load_configured_dataset(config: RunConfig) -> Dataset:
    return load_dataset(config.data.name, config.data.options, config.data.data_dir)


def protocol(config: RunConfig, dataset: Dataset) -> dict[str, Any]:
    """Everything a reader needs to compare a figure with a published one."""
    model = config.model
    return {
        "dataset": dataset.name,
        "dataset_stats": dataset.stats(),
        "split": "leave-one-out (last item test, second-last validation, rest train)",
        "ranking": "full ranking over all items, no sampled negatives",
        "history_masked": config.evaluate.mask_history,
        "model": model.name,
        "loss": getattr(model, "loss", None),
        "semantic_ids": config.semantic_ids.method if _uses_semantic_ids(config) else None,
        "seed": config.seed,
        "early_stopping": "validation ndcg@10" if model.name != "popularity" else None,
        "refit": _refit_protocol(config),
        **({"decoding": f"trie-constrained beam search, beam {model.beam}: the beam is the ranked list, items "
                        f"outside it rank below it (MRR and metrics at K > {model.beam} are truncated)"}
           if model.name == "generative" else {}),
    }


def _refit_protocol(config: RunConfig) -> str | None:
    if not config.train.refit or config.model.name == "popularity":
        return None
    return ("refit for the best validation epoch count on training + validation items (every item before the test "
            "item); the test model never saw its test item, and there are no validation metrics")


def _uses_semantic_ids(config: RunConfig) -> bool:
    return config.model.name == "generative" or getattr(config.model, "semantic_id_features", False)


def train_and_evaluate(config: RunConfig) -> dict[str, Any]:
    """Fit ``config.model`` on ``config.data`` and write config.yaml, checkpoint and metrics.json to the run dir.

    ``test`` holds the test metrics under the configured protocol, and ``test_history_masked`` (or
    ``test_history_not_masked``) the same model under the other one.
    """
    started = time.perf_counter()
    run_dir = config.run_dir
    save_config(config, run_dir)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    seed_everything(config.seed)
    dataset = load_configured_dataset(config)
    split = dataset.split()
    counts = item_counts(split.train, dataset.n_items)
    model, summary = MODELS[config.model.name].fit(config, dataset, split, counts)
    results: dict[str, Any] = {"protocol": protocol(config, dataset), "train": summary}
    masked, ks, batch_size = config.evaluate.mask_history, config.evaluate.ks, config.evaluate.batch_size
    if "valid" in _evaluated_stages(config):
        results["valid"] = evaluate_ranking(model.score, split.stage("valid"), counts, ks=ks, mask_history=masked,
                                            batch_size=batch_size)
    # test under both protocols: the published SASRec figures mask the history, the generative ones do not
    test = evaluate_protocols(model.score, split.stage("test"), counts, masks=(masked, not masked), ks=ks,
                              batch_size=batch_size)
    results["test"] = test[masked]
    results["test_history_not_masked" if masked else "test_history_masked"] = test[not masked]
    results["wall_seconds"] = time.perf_counter() - started
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["machine"] = machine()
    write_json(run_dir / "metrics.json", results)
    return results


def _evaluated_stages(config: RunConfig) -> tuple[Stage, ...]:
    return ("test",) if _refit_protocol(config) else ("valid", "test")


@dataclass(frozen=True)
class TrainedRun:
    """A finished run read back: its config, data, split, training counts and model."""

    config: RunConfig
    dataset: Dataset
    split: LeaveOneOutSplit
    counts: np.ndarray
    model: Recommender


def load_run(run_dir: Path) -> TrainedRun:
    """Read a run directory written by ``train_and_evaluate`` (config.yaml + checkpoint)."""
    config = load_config(Path(run_dir) / "config.yaml", [f"run_dir={run_dir}"])
    dataset = load_configured_dataset(config)
    split = dataset.split()
    counts = item_counts(split.train, dataset.n_items)
    return TrainedRun(config, dataset, split, counts, MODELS[config.model.name].load(config, counts))


def evaluate_run(run_dir: Path, stage: Stage = "test", mask_history: bool | None = None) -> dict[str, Any]:
    """Re-evaluate a finished run from its saved config and checkpoint."""
    run = load_run(run_dir)
    config = run.config
    if stage not in _evaluated_stages(config):
        raise AgenticRecError(f"{run_dir} was refit on the validation items (train.refit); its {stage} metrics "
                              "would be measured on items it trained on")
    if mask_history is not None:
        config.evaluate.mask_history = mask_history
    metrics = evaluate_ranking(run.model.score, run.split.stage(stage), run.counts, ks=config.evaluate.ks,
                               mask_history=config.evaluate.mask_history, batch_size=config.evaluate.batch_size)
    return {"protocol": protocol(config, run.dataset), stage: metrics}


def machine() -> str:
    device = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "CPU only"
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, {device}"
