"""Train-and-evaluate runs: load data, build what the model needs, fit it, evaluate valid and test, write the run
directory; and read a finished run back."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from agenticrec.config import save_config
from agenticrec.data import Dataset
from agenticrec.data.dataset import LeaveOneOutSplit, Stage
from agenticrec.environment import machine
from agenticrec.errors import AgenticRecError, ConfigError
from agenticrec.evaluate import evaluate_protocols, evaluate_ranking, item_counts
from agenticrec.io import write_json
from agenticrec.models import Model, ModelInputs, model_class
from agenticrec.models.training import (
    NextItemModel,
    load_matching_weights,
    resolve_device,
    save_checkpoint,
    seed_everything,
    train_next_item,
)
from agenticrec.pipeline.config import RunConfig, load_config
from agenticrec.semantic_ids import SemanticIDs, build_semantic_ids, load_semantic_ids

CHECKPOINT = "checkpoint.pt"
CACHE = "cache"  # what models derive once from the data (e.g. text embeddings)
METRICS = "metrics.json"
COMPOSE = "compose.json"  # a composition of runs (`agenticrec evolve compose`), not a run itself


def protocol(config: RunConfig, dataset: Dataset) -> dict[str, Any]:
    """Everything a reader needs to compare a figure with a published one."""
    model = config.model
    cls = model_class(model.name)
    return {
        "dataset": dataset.name,
        "dataset_stats": dataset.stats(),
        "user_sample": f"a seeded sample of {config.data.users} users" if config.data.users else None,
        "split": "leave-one-out (last item test, second-last validation, rest train)",
        "ranking": "full ranking over all items, no sampled negatives",
        "history_masked": config.evaluate.mask_history,
        "model": model.name,
        "loss": getattr(model, "loss", None),
        "semantic_ids": config.semantic_ids.method if cls.uses_semantic_ids(model) else None,
        "seed": config.seed,
        "early_stopping": "validation ndcg@10" if cls.trains else None,
        "refit": _refit_protocol(config),
        "initialised_from": str(config.train.init_from) if config.train.init_from else None,
        **cls.protocol_notes(model),
    }


def _refit_protocol(config: RunConfig) -> str | None:
    if not config.train.refit or not model_class(config.model.name).supports_refit:
        return None
    return (
        "refit for the best validation epoch count on training + validation items (every item before the test "
        "item); the test model never saw its test item, and there are no validation metrics"
    )


def _initialise_from(model: Model, name: str, source: Path) -> dict[str, Any]:
    """Load run ``source``'s checkpoint into ``model`` (of model ``name``) where names and shapes match
    (`load_matching_weights`)."""
    if not model_class(name).trains:
        raise ConfigError(f"train.init_from: model {name!r} has no weights to initialise")
    if not (source / "config.yaml").is_file() or not (source / CHECKPOINT).is_file():
        raise ConfigError(f"train.init_from: {source} is not a finished run (no config.yaml or {CHECKPOINT})")
    trained = load_config(source / "config.yaml", [f"run_dir={source}"]).model.name
    if trained != name:
        raise ConfigError(f"train.init_from: {source} trained {trained!r}, not {name!r}")
    state = torch.load(source / CHECKPOINT, map_location="cpu", weights_only=True)
    names = load_matching_weights(cast(torch.nn.Module, model), state)
    return {"run": str(source), "loaded": len(names["loaded"]), "kept_initial": names["kept"]}


def _evaluated_stages(config: RunConfig) -> tuple[Stage, ...]:
    return ("test",) if _refit_protocol(config) else ("valid", "test")


def _semantic_ids(config: RunConfig, dataset: Dataset | None) -> SemanticIDs | None:
    """The run's semantic IDs if its model uses any: built now (``dataset`` given) or read back."""
    if not model_class(config.model.name).uses_semantic_ids(config.model):
        return None
    if dataset is not None:
        return build_semantic_ids(dataset, config.semantic_ids, config.run_dir, config.seed)
    return load_semantic_ids(config.run_dir, config.semantic_ids.method)


def train_and_evaluate(config: RunConfig) -> dict[str, Any]:
    """Fit ``config.model`` on ``config.data`` and write config.yaml, checkpoint and metrics.json to the run dir.

    ``test`` holds the test metrics under the configured protocol, and ``test_history_masked`` (or
    ``test_history_not_masked``) the same model under the other one.
    """
    started = time.perf_counter()
    run_dir = config.run_dir
    cls = model_class(config.model.name)
    if cls.trains and config.train.refit and not cls.supports_refit:
        raise ConfigError(f"model {config.model.name!r} cannot be refit; set train.refit=false")
    dataset = config.data.load()
    save_config(config, run_dir)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    seed_everything(config.seed)
    split = dataset.split()
    counts = item_counts(split.train, dataset.n_items)
    ids = _semantic_ids(config, dataset)
    model = cls.create(config.model, ModelInputs(dataset.n_items, counts, ids, dataset, run_dir / CACHE))
    source = config.train.init_from
    initialised = _initialise_from(model, config.model.name, source) if source is not None else None
    summary: dict[str, Any] = {}
    if cls.trains:
        summary = train_next_item(
            cast(NextItemModel, model),  # a model class that declares ``trains`` implements NextItemModel
            split,
            counts,
            config.train,
            config.evaluate,
            run_dir,
            resolve_device(config.train.device),
        )
    if initialised:
        summary["initialised_from"] = initialised
    tuned = model.tune_on_validation(split.stage("valid").sample(config.evaluate.valid_users), counts, config.evaluate)
    if tuned:
        summary["tuned_on_validation"] = tuned
        save_checkpoint(cast(torch.nn.Module, model), run_dir / CHECKPOINT)
    if ids is not None and cls.decodes_semantic_ids:
        summary["semantic_ids"] = ids.stats()
    results: dict[str, Any] = {"protocol": protocol(config, dataset), "train": summary}
    masked, ks, batch_size = config.evaluate.mask_history, config.evaluate.ks, config.evaluate.batch_size
    if "valid" in _evaluated_stages(config):
        results["valid"] = evaluate_ranking(
            model.score, split.stage("valid"), counts, ks=ks, mask_history=masked, batch_size=batch_size
        )
    if config.evaluate.test:
        # both protocols: the published SASRec figures mask the history, the generative ones do not
        test = evaluate_protocols(
            model.score, split.stage("test"), counts, masks=(masked, not masked), ks=ks, batch_size=batch_size
        )
        results["test"] = test[masked]
        results["test_history_not_masked" if masked else "test_history_masked"] = test[not masked]
    results["wall_seconds"] = time.perf_counter() - started
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"] = machine()
    write_json(run_dir / METRICS, results)
    return results


@dataclass(frozen=True)
class TrainedRun:
    """A finished run read back: its config, data, split, training counts, model and semantic IDs."""

    config: RunConfig
    dataset: Dataset
    split: LeaveOneOutSplit
    counts: np.ndarray
    model: Model
    semantic_ids: SemanticIDs | None


def load_run(run_dir: Path) -> TrainedRun:
    """Read a run directory written by ``train_and_evaluate`` (config.yaml, semantic IDs, checkpoint)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise AgenticRecError(f"{run_dir} is not a run directory (no config.yaml)")
    config = load_config(run_dir / "config.yaml", [f"run_dir={run_dir}"])
    if (run_dir / COMPOSE).is_file():
        raise AgenticRecError(
            f"{run_dir} holds a composition of runs ({COMPOSE}), not a run; serve it with `agenticrec serve {run_dir}`"
        )
    if not (run_dir / METRICS).is_file():
        raise AgenticRecError(f"{run_dir} holds an unfinished run (no {METRICS}); train it with `agenticrec train`")
    cls = model_class(config.model.name)
    dataset = config.data.load()
    split = dataset.split()
    counts = item_counts(split.train, dataset.n_items)
    ids = _semantic_ids(config, None)
    model = cls.create(config.model, ModelInputs(dataset.n_items, counts, ids, dataset, run_dir / CACHE))
    if cls.trains:
        _restore(model, run_dir / CHECKPOINT, config.train.device)
    return TrainedRun(config, dataset, split, counts, model, ids)


def _restore(model: Model, path: Path, device_name: str) -> None:
    assert isinstance(model, torch.nn.Module)
    if not path.is_file():
        raise AgenticRecError(f"no checkpoint at {path}; train first with `agenticrec train`")
    device = resolve_device(device_name)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.to(device).eval()


def evaluate_run(run_dir: Path, stage: Stage = "test", mask_history: bool | None = None) -> dict[str, Any]:
    """Re-evaluate a finished run from its saved config and checkpoint."""
    run = load_run(run_dir)
    config = run.config
    if stage not in _evaluated_stages(config):
        raise AgenticRecError(
            f"{run_dir} was refit on the validation items (train.refit); its {stage} metrics "
            "would be measured on items it trained on"
        )
    if mask_history is not None:
        config.evaluate.mask_history = mask_history
    metrics = evaluate_ranking(
        run.model.score,
        run.split.stage(stage),
        run.counts,
        ks=config.evaluate.ks,
        mask_history=config.evaluate.mask_history,
        batch_size=config.evaluate.batch_size,
    )
    return {"protocol": protocol(config, run.dataset), stage: metrics}
