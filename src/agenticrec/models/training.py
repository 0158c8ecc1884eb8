"""Training loop for sequence models: mini-batches over users, early stopping on validation NDCG@10."""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agenticrec.config import EvaluateConfig, TrainConfig
from agenticrec.data.dataset import EvalSet, LeaveOneOutSplit
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


def train_next_item(
    model: NextItemModel,
    split: LeaveOneOutSplit,
    item_counts: np.ndarray,
    train: TrainConfig,
    evaluate: EvaluateConfig,
    run_dir: Path,
    device: torch.device,
) -> dict[str, float]:
    """Train ``model`` on its next-item examples of the training sequences, with early stopping on validation.

    """
    assert isinstance(model, torch.nn.Module)
    inputs, targets = model.training_examples(split.train)
    model.to(device)
    valid = split.stage("valid").sample(evaluate.valid_users)
    return fit_with_early_stopping(model, lambda: next_item_losses(model, inputs, targets, train.batch_size, device),
                                   len(inputs), valid, item_counts, train, evaluate, run_dir, model.label)


def next_item_losses(model: NextItemModel, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int,
                     device: torch.device) -> Iterator[torch.Tensor]:
    """One epoch over left-padded ``inputs`` and their ``targets`` ((N, L) per position or (N,)): the loss of each
    mini-batch of similar-length examples, trimmed to its longest input."""
    lengths = (inputs > 0).sum(dim=1)
    per_position = targets.dim() == 2
    for batch in length_bucketed_batches(lengths, batch_size):
        width = max(int(lengths[batch].max()), 1)
        batch_targets = targets[batch, -width:] if per_position else targets[batch]
        yield model.loss(inputs[batch, -width:].to(device), batch_targets.to(device))


def fit_with_early_stopping(
    model: torch.nn.Module,
    epoch: Callable[[], Iterator[torch.Tensor]],
    examples: int,
    valid: EvalSet,
    item_counts: np.ndarray,
    train: TrainConfig,
    evaluate: EvaluateConfig,
    run_dir: Path,
    label: str,
) -> dict[str, float]:
    """Train ``model`` (a module with a ``score`` method) in place and keep the state with the best validation
    NDCG@10, saved to the run dir.

    ``epoch()`` yields one loss per mini-batch of an epoch over ``examples`` training examples. Writes
    ``train_log.jsonl`` (one line per validation) and ``checkpoint.pt``; returns a training summary.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, betas=(0.9, 0.999), weight_decay=train.weight_decay)
    scheduler = None
    if train.schedule == "cosine":
        steps = train.epochs * max(1, math.ceil(examples / train.batch_size))
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    best_score, best_epoch, best_state, waited = -1.0, 0, None, 0
    stopped_by = "epoch limit"
    started = time.perf_counter()
    log_path = run_dir / "train_log.jsonl"
    log_path.unlink(missing_ok=True)

    def out_of_time() -> bool:
        return bool(train.max_minutes) and time.perf_counter() - started > 60 * train.max_minutes

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[status]}")]
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(label, total=train.epochs, status="")
        for number in range(1, train.epochs + 1):
            model.train()
            total, batches = 0.0, 0
            for loss in epoch():
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total, batches = total + loss.item(), batches + 1
                if out_of_time():
                    break  # validate what has been learnt so far, then stop
            status = f"loss {total / batches:.4f}"
            if number % train.eval_every == 0 or number == train.epochs or out_of_time():
                model.eval()
                metrics = evaluate_ranking(model.score, valid, item_counts, ks=[10], lists=False,
                                           mask_history=evaluate.mask_history, batch_size=evaluate.batch_size)
                score = metrics[EARLY_STOPPING_METRIC]
                with log_path.open("a") as log:
                    log.write(json.dumps({"epoch": number, "loss": total / batches, "valid": metrics,
                                          "seconds": time.perf_counter() - started}) + "\n")
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
    save_checkpoint(model, run_dir / "checkpoint.pt")
    return {"best_epoch": best_epoch, "epochs_run": number, "stopped_by": stopped_by,
            "best_valid_ndcg@10": best_score, "train_seconds": time.perf_counter() - started}
