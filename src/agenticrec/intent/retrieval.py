"""RecGPT's inference path, part 1 into part 2: a trained TAR run retrieves for the sampled users with the tags part
1 predicted as the tag tower's input, against the same model with the tags of the users' last items, on the same
users and targets (each user's test item; full ranking at the run's protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from agenticrec.data import Dataset
from agenticrec.errors import ConfigError
from agenticrec.evaluate import item_counts, mask_histories, score_metrics
from agenticrec.models.tar import TAR
from agenticrec.pipeline import load_run

TOP = 5  # recommendations kept per user for the report


def tar_with_predicted_tags(dataset: Dataset, tar_run: Path, users: list[int], tags: list[list[str]]) -> dict[str, Any]:
    """NDCG@10 and Recall@10 of both tag sources, and each user's top items with the predicted tags."""
    run = load_run(tar_run)
    if not isinstance(run.model, TAR):
        raise ConfigError(f"intent.tar_run: {tar_run} is a {run.config.model.name} run, not a TAR run")
    if run.config.data.name != dataset.name or run.dataset.n_items != dataset.n_items:
        raise ConfigError(f"intent.tar_run: {tar_run} was trained on {run.config.data.name}, not {dataset.name}")
    histories = [dataset.sequences[u][:-1] for u in users]
    targets = np.array([dataset.sequences[u][-1] for u in users])
    counts = item_counts(run.split.train, dataset.n_items)
    by_source = {
        "predicted_tags": run.model.scores_with_tags(histories, tags),
        "history_tags": run.model.score(histories),
    }
    out: dict[str, Any] = {"users": len(users), "beta": float(run.model.beta), "run": str(tar_run)}
    for source, scores in by_source.items():
        if run.config.evaluate.mask_history:
            mask_histories(scores, histories)
        metrics = score_metrics(scores, targets, counts, lists=False)
        out[f"ndcg10_{source}"], out[f"recall10_{source}"] = metrics["ndcg@10"], metrics["recall@10"]
    scores = by_source["predicted_tags"].clone()
    scores[:, 0] = -torch.inf
    out["top"] = scores.topk(TOP, dim=1).indices.tolist()
    return out
