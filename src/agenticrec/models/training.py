"""Training loop for sequence models: mini-batches over users, early stopping on validation NDCG@10, optional
refit on training + validation items."""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agenticrec.config import EvaluateConfig, TrainConfig
from agenticrec.data.dataset import EvalSet, LeaveOneOutSplit
from agenticrec.errors import ConfigError
from agenticrec.evaluate.ranking import evaluate_ranking
from agenticrec.io import atomic_path

EARLY_STOPPING_METRIC = "ndcg@10"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class NextItemModel(Protocol):
    """What ``train_next_item`` needs from a model (besides being an ``nn.Module``)."""

    label: str

    def training_examples(self, train: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded inputs (N, L) and their targets: (N, L) next items per position, or (N,) one next item."""

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor: ...

    def score(self, histories: list[np.ndarray]) -> torch.Tensor: ...


class ScoringModel(Protocol):
    """What ``fit_with_early_stopping`` needs from a model besides being an ``nn.Module``."""

    def score(self, histories: list[np.ndarray]) -> torch.Tensor: ...


def length_bucketed_batches(lengths: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Batches of users with similar sequence lengths (random within equal lengths), in random order.

    Trimming each batch to its longest sequence then skips most of the padding of short-sequence datasets.
    """
    shuffled = torch.randperm(len(lengths))
    by_length = shuffled[torch.sort(lengths[shuffled], stable=True).indices]
    batches = list(torch.split(by_length, batch_size))
    return [batches[i] for i in torch.randperm(len(batches)).tolist()]


def save_checkpoint(model: torch.nn.Module, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)


def load_matching_weights(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> dict[str, list[str]]:
    """Copy ``state``'s tensors into ``model`` by name. A tensor that differs only in its first dimension (a table over
    another catalogue) or that ``state`` lacks keeps the model's own initialisation; any other difference in shape is
    refused. Returns the names ``loaded`` and ``kept`` (initial)."""
    loaded, kept = [], []
    for name, tensor in model.state_dict().items():
        theirs = state.get(name)
        if theirs is not None and theirs.shape == tensor.shape:
            loaded.append(name)
        elif theirs is None or theirs.shape[1:] == tensor.shape[1:]:
            kept.append(name)
        else:
            raise ConfigError(
                f"{name} is {tuple(theirs.shape)} in the initialising checkpoint but {tuple(tensor.shape)} here; "
                "the two runs need the same model settings"
            )
    model.load_state_dict({name: state[name] for name in loaded}, strict=False)
    return {"loaded": loaded, "kept": kept}


def train_next_item(
    model: NextItemModel,
    split: LeaveOneOutSplit,
    item_counts: np.ndarray,
    train: TrainConfig,
    evaluate: EvaluateConfig,
    run_dir: Path,
    device: torch.device,
) -> dict[str, Any]:
    """Train ``model`` on its next-item examples of the training sequences, with early stopping on validation, and
    save the kept state to ``run_dir/checkpoint.pt``.

    With ``train.refit`` the early-stopped pass only chooses the number of epochs: the model then goes back to
    its initial weights, trains that many epochs on every item before the test item (training + validation
    items), and keeps its last state.
    """
    assert isinstance(model, torch.nn.Module)
    initial = copy.deepcopy(model.state_dict()) if train.refit else None
    model.to(device)
    valid = split.stage("valid").sample(evaluate.valid_users)
    summary = fit_with_early_stopping(
        model,
        _NextItemEpoch(model, split.train, train.batch_size, device),
        valid,
        item_counts,
        train,
        evaluate,
        run_dir,
        model.label,
    )
    if initial is not None:  # train.refit
        model.load_state_dict(initial)
        everything_before_test = split.stage("test").histories
        summary["refit"] = fit_epochs(
            model,
            _NextItemEpoch(model, everything_before_test, train.batch_size, device),
            summary["best_epoch"],
            train,
            run_dir,
            f"{model.label} refit",
        )
        summary["train_seconds"] += summary["refit"]["train_seconds"]
    save_checkpoint(model, run_dir / "checkpoint.pt")
    return summary


class Epoch(Protocol):
    """One epoch of training: ``len`` is the number of examples, calling it yields one loss per mini-batch."""

    def __len__(self) -> int: ...

    def __call__(self) -> Iterator[torch.Tensor]: ...


class _NextItemEpoch:
    """Epochs over a model's next-item examples of some sequences: left-padded inputs with their targets, (N, L)
    per position or (N,), in mini-batches of similar-length examples trimmed to their longest input."""

    def __init__(self, model: NextItemModel, sequences: list[np.ndarray], batch_size: int, device: torch.device):
        self.model, self.batch_size, self.device = model, batch_size, device
        self.inputs, self.targets = model.training_examples(sequences)
        self.lengths = (self.inputs > 0).sum(dim=1)

    def __len__(self) -> int:
        return len(self.inputs)

    def __call__(self) -> Iterator[torch.Tensor]:
        """The loss of each mini-batch of one epoch."""
        per_position = self.targets.dim() == 2
        for batch in length_bucketed_batches(self.lengths, self.batch_size):
            width = max(int(self.lengths[batch].max()), 1)
            targets = self.targets[batch, -width:] if per_position else self.targets[batch]
            yield self.model.loss(self.inputs[batch, -width:].to(self.device), targets.to(self.device))


class _Optimisation:
    """AdamW and the configured learning-rate schedule, stepping over mini-batch losses."""

    def __init__(self, model: torch.nn.Module, train: TrainConfig, examples: int):
        self.model = model
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=train.lr, betas=(0.9, 0.999), weight_decay=train.weight_decay
        )
        self.scheduler = None
        if train.schedule == "cosine":
            steps = train.epochs * max(1, math.ceil(examples / train.batch_size))
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=steps)

    def epoch(self, losses: Iterator[torch.Tensor], stop: Callable[[], bool] = lambda: False) -> float:
        """Step through one epoch's ``losses`` (until ``stop()``) and return their mean."""
        self.model.train()
        total, batches = 0.0, 0
        for loss in losses:
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            total, batches = total + loss.item(), batches + 1
            if stop():
                break
        self.model.eval()
        return total / max(batches, 1)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        transient=False,
    )


def _log(run_dir: Path, entry: dict[str, Any]) -> None:
    with (run_dir / "train_log.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


def fit_with_early_stopping(
    model: ScoringModel,
    epoch: Epoch,
    valid: EvalSet,
    item_counts: np.ndarray,
    train: TrainConfig,
    evaluate: EvaluateConfig,
    run_dir: Path,
    label: str,
) -> dict[str, Any]:
    """Train ``model`` (a module with a ``score`` method) in place and leave it in the state with the best
    validation NDCG@10.

    Starts ``run_dir/train_log.jsonl`` afresh and writes one line per validation; returns a training summary.
    """
    assert isinstance(model, torch.nn.Module)
    optimisation = _Optimisation(model, train, len(epoch))
    best_score, best_epoch, best_state, waited = -1.0, 0, None, 0
    stopped_by = "epoch limit"
    started = time.perf_counter()
    (run_dir / "train_log.jsonl").unlink(missing_ok=True)

    def out_of_time() -> bool:
        if not train.max_minutes:
            return False
        return time.perf_counter() - started > 60 * train.max_minutes

    with _progress() as progress:
        task = progress.add_task(label, total=train.epochs, status="")
        for number in range(1, train.epochs + 1):
            loss = optimisation.epoch(epoch(), stop=out_of_time)  # a late epoch is cut short, then validated
            status = f"loss {loss:.4f}"
            if number % train.eval_every == 0 or number == train.epochs or out_of_time():
                metrics = evaluate_ranking(
                    model.score,
                    valid,
                    item_counts,
                    ks=[10],
                    lists=False,
                    mask_history=evaluate.mask_history,
                    batch_size=evaluate.batch_size,
                )
                score = metrics[EARLY_STOPPING_METRIC]
                _log(
                    run_dir, {"epoch": number, "loss": loss, "valid": metrics, "seconds": time.perf_counter() - started}
                )
                if score > best_score:
                    best_score, best_epoch, waited = score, number, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    waited += 1
                status += f" | valid ndcg@10 {score:.4f} (best {best_score:.4f} @ {best_epoch})"
            progress.update(task, advance=1, status=status)
            if waited >= train.patience:
                stopped_by = "early stopping"
                break
            if out_of_time():
                stopped_by = "time budget"
                break
    assert best_state is not None  # the last epoch always validates
    model.load_state_dict(best_state)
    return {
        "best_epoch": best_epoch,
        "epochs_run": number,
        "stopped_by": stopped_by,
        "best_valid_ndcg@10": best_score,
        "train_seconds": time.perf_counter() - started,
    }


def fit_epochs(
    model: torch.nn.Module, epoch: Epoch, epochs: int, train: TrainConfig, run_dir: Path, label: str
) -> dict[str, Any]:
    """Train ``model`` in place for exactly ``epochs`` epochs, without validation; append to the training log."""
    optimisation = _Optimisation(model, train, len(epoch))
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(label, total=epochs, status="")
        for number in range(1, epochs + 1):
            loss = optimisation.epoch(epoch())
            _log(run_dir, {"refit_epoch": number, "loss": loss, "seconds": time.perf_counter() - started})
            progress.update(task, advance=1, status=f"loss {loss:.4f}")
    return {"epochs": epochs, "examples": len(epoch), "train_seconds": time.perf_counter() - started}
