"""RecGPT's inference path, part 1 into part 2: a trained TAR run retrieves for the sampled users with the tags part
1 predicted as the tag tower's input, against the same model with the tags of the users' last items, on the same
users and targets (full ranking at the run's protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from agenticrec.data import Dataset
from agenticrec.errors import ConfigError
from agenticrec.evaluate import item_counts, mask_histories, score_metrics
from agenticrec.models.tar import TAR
from agenticrec.models.tar.tags import path_tags
from agenticrec.pipeline import load_run
from agenticrec.pipeline.run import TrainedRun

TOP = 5  # recommendations kept per user for the report
HISTORY_TAGS = "history_tags"  # the run's own tags of each user's last items


def load_tar_run(dataset: Dataset, tar_run: Path) -> tuple[TrainedRun, TAR]:
    """A trained TAR (or two-tower) run on ``dataset`` and its model; anything else is refused."""
    run = load_run(tar_run)
    if not isinstance(run.model, TAR):
        raise ConfigError(f"intent.tar_run: {tar_run} is a {run.config.model.name} run, not a TAR run")
    if run.config.data.name != dataset.name or run.dataset.n_items != dataset.n_items:
        raise ConfigError(f"intent.tar_run: {tar_run} was trained on {run.config.data.name}, not {dataset.name}")
    return run, run.model


def ranking_metrics(
    run: TrainedRun, scores: torch.Tensor, histories: list[np.ndarray], targets: np.ndarray
) -> dict[str, float]:
    """NDCG@10 and Recall@10 of a score matrix at the run's protocol (history masked in place where it masks)."""
    if run.config.evaluate.mask_history:
        mask_histories(scores, histories)
    return score_metrics(scores, targets, item_counts(run.split.train, run.dataset.n_items), lists=False)


def metrics_by_beta(
    run: TrainedRun,
    model: TAR,
    users: list[int],
    held_out: int,
    tags: list[list[str]] | None,
    betas: list[float],
) -> dict[float, dict[str, float]]:
    """NDCG@10 and Recall@10 of TAR's fusion at each beta for ``users`` at a cut-off (``held_out`` items taken
    from the end of each sequence, the first of them the target), each user with ``tags[row]`` (None: the run's
    own tags of their last items)."""
    sequences = run.dataset.sequences
    histories = [sequences[u][:-held_out] for u in users]
    targets = np.array([sequences[u][-held_out] for u in users])
    collaborative, semantic = model.component_scores(histories, tags)
    return {
        beta: ranking_metrics(run, beta * collaborative + (1 - beta) * semantic, histories, targets) for beta in betas
    }


def tar_with_predicted_tags(dataset: Dataset, tar_run: Path, users: list[int], tags: list[list[str]]) -> dict[str, Any]:
    """NDCG@10 and Recall@10 on the test items with the predicted tags and with the run's own (at the run's beta),
    and each user's top items with the predicted tags."""
    run, model = load_tar_run(dataset, tar_run)
    histories = [dataset.sequences[u][:-1] for u in users]
    targets = np.array([dataset.sequences[u][-1] for u in users])
    figures: dict[str, Any] = {"users": len(users), "beta": float(model.beta), "run": str(tar_run)}
    scores = {"predicted_tags": model.scores_with_tags(histories, tags), HISTORY_TAGS: model.score(histories)}
    for source, source_scores in scores.items():
        metrics = ranking_metrics(run, source_scores, histories, targets)
        figures[f"ndcg10_{source}"], figures[f"recall10_{source}"] = metrics["ndcg@10"], metrics["recall@10"]
    top = scores["predicted_tags"]
    top[:, 0] = -torch.inf
    return figures | {"top": top.topk(TOP, dim=1).indices.tolist()}


def tar_with_predicted_categories(dataset: Dataset, tar_run: Path, predicted: pd.DataFrame) -> dict[str, Any]:
    """TAR with each hybrid's best categories as the users' tags (as many as the run's ``tag_items``, each as its
    category-path tags, like the tags of that many last items), beside its own tags of the users' last items.

    ``predicted`` has one row per (hybrid, held_out, user_index, rank, category), ``held_out`` 2 for the
    validation cut-off and 1 for the test one. Test NDCG@10 / Recall@10 at the run's beta, and for each hybrid
    also at the beta best for its tags on the validation cut-off (``beta_<hybrid>``, ``ndcg10_<hybrid>_tuned``)."""
    run, model = load_tar_run(dataset, tar_run)
    own, grid = float(model.beta), list(model.config.beta_grid)
    first = predicted[predicted["rank"] < model.config.tag_items].sort_values("rank")
    users = sorted(int(u) for u in first["user_index"].unique())
    figures: dict[str, Any] = {"users": len(users), "beta": own}

    def tags_of(hybrid: str, held_out: int) -> list[list[str]]:
        rows = first[(first["hybrid"] == hybrid) & (first["held_out"] == held_out)]
        by_user = rows.groupby("user_index")["category"].agg(lambda c: [t for v in c for t in path_tags(v)])
        return [by_user.get(u, []) for u in users]

    test = metrics_by_beta(run, model, users, 1, None, [own])[own]
    figures[f"ndcg10_{HISTORY_TAGS}"], figures[f"recall10_{HISTORY_TAGS}"] = test["ndcg@10"], test["recall@10"]
    for hybrid in sorted(first["hybrid"].unique()):
        valid = metrics_by_beta(run, model, users, 2, tags_of(hybrid, 2), grid)
        tuned = max(grid, key=lambda beta: valid[beta]["ndcg@10"])
        test_by_beta = metrics_by_beta(run, model, users, 1, tags_of(hybrid, 1), sorted({own, tuned}))
        figures[f"ndcg10_{hybrid}"], figures[f"recall10_{hybrid}"] = (
            test_by_beta[own][m] for m in ("ndcg@10", "recall@10")
        )
        figures[f"beta_{hybrid}"], figures[f"ndcg10_{hybrid}_tuned"] = tuned, test_by_beta[tuned]["ndcg@10"]
    return figures
