"""The single-turn critique experiment of AgenticTagger: for test users, an LLM playing the user sees the
held-out item's text and picks the level-1 descriptors it wants; Recall/NDCG of vanilla beam search are
compared with beam search restricted to items under the picked descriptors, and with the bound of a user who
always picks the target's own level-1 descriptor (the oracle)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agenticrec.errors import AgenticRecError
from agenticrec.evaluate.ranking import rank_metrics
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.pipeline import load_run
from agenticrec.semantic_ids import SemanticIDs
from agenticrec.tagger.critique.simulated_user import ROLE, level1_options, pick_level1

CRITIQUE_FILE = "critique.json"


def list_ranks(lists: np.ndarray, targets: np.ndarray) -> torch.Tensor:
    """0-based position of each target in its ranked list; a target outside the list ranks after it."""
    hits = lists == targets[:, None]
    return torch.as_tensor(np.where(hits.any(axis=1), hits.argmax(axis=1), lists.shape[1]))


def run_semantic_ids(ids: SemanticIDs | None, run_dir: Path) -> SemanticIDs:
    """The run's semantic IDs, whose level-1 tokens the critique steers by."""
    if ids is None:
        raise AgenticRecError(f"{run_dir}: critique control needs a run with semantic IDs (e.g. model.name=generative)")
    return ids


def run_critique(
    run_dir: Path, users: int = 5000, seed: int = 0, ks: tuple[int, ...] = (5, 10, 20), llm: LLMConfig | None = None
) -> dict[str, Any]:
    """Run the experiment on up to ``users`` seeded test users and write ``critique.json`` in the run dir; the
    simulated user is ``llm``'s role `simulated_user` (by default the run's own LLM config)."""
    started = time.perf_counter()
    run = load_run(run_dir)
    llm = llm or run.config.llm
    model = run.model
    ids = run_semantic_ids(run.semantic_ids, run_dir)
    options = level1_options(ids, run.config.semantic_ids.tagger_run or run_dir)
    if len(options) < 2:
        raise AgenticRecError(f"{run_dir}: the semantic IDs have {len(options)} level-1 token(s); nothing to critique")
    test = run.split.stage("test").sample(users, seed)
    with LLMClient(llm, run_dir) as client:
        picks = pick_level1(client, [run.dataset.item_text(int(target)) for target in test.targets], options)
    picked = {k: p for k, p in enumerate(picks) if p is not None}  # user -> tokens, where the call succeeded
    answered = list(picked)
    if not answered:
        raise AgenticRecError(f"{run_dir}: every simulated-user call failed; see `agenticrec llm stats {run_dir}`")
    histories = [test.histories[k] for k in answered]
    targets = test.targets[answered]
    everything = ids.items_under([()])  # an abstaining user keeps the vanilla list
    allowed = np.stack([ids.items_under([(t,) for t in picked[k]]) if picked[k] else everything for k in answered])
    oracle = np.stack([ids.items_under([ids.tokens(int(target))[:1]]) for target in targets])
    beam = max(ks)
    vanilla, _ = model.recommend(histories, k=beam)
    critiqued, _ = model.recommend(histories, k=beam, allowed=allowed)
    bound, _ = model.recommend(histories, k=beam, allowed=oracle)
    result = {
        "protocol": {
            "dataset": run.dataset.name,
            "split": "leave-one-out test users",
            "users_sampled": len(test.targets),
            "seed": seed,
            "semantic_ids": ids.method,
            "beam": beam,
            "level1_options": len(options),
            "simulated_user": llm.role(ROLE).model_dump(mode="json"),
        },
        "users": len(answered),
        "failed_llm_calls": len(test.targets) - len(answered),
        "mean_picked": float(np.mean([len(picked[k]) for k in answered])),
        "abstained": sum(not picked[k] for k in answered),
        "target_under_picks": float(allowed[np.arange(len(targets)), targets].mean()),
        "vanilla": rank_metrics(list_ranks(vanilla, targets), ks),
        "critique": rank_metrics(list_ranks(critiqued, targets), ks),
        "oracle": rank_metrics(list_ranks(bound, targets), ks),  # the user picks the target's own descriptor
        "wall_seconds": time.perf_counter() - started,
    }
    write_json(Path(run_dir) / CRITIQUE_FILE, result)
    return result
