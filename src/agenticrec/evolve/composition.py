"""Compositional evolution as a stage: trained retrieval agents are scored on seeded validation users; the fusion
agent's and the routing agent's decision spaces are searched under the outer reward (fusion method and
normalisation, weights, agent-set selection, segmentation); the option with the best validation reward is the
system, measured on seeded test users against every single agent. Writes ``RUN_DIR/compose.json``, which
``load_composition`` reads back as a model that serves the chosen system."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from agenticrec.config import save_config
from agenticrec.data.dataset import EvalSet
from agenticrec.errors import AgenticRecError
from agenticrec.evolve.card import load_card
from agenticrec.evolve.compose import (
    Fusion,
    Method,
    Normalisation,
    Reward,
    Routing,
    Scores,
    SegmentBy,
    Segmenter,
    System,
    best_fusion,
    outer_reward,
    route,
    select_agents,
    system_from_record,
    system_record,
)
from agenticrec.io import write_json
from agenticrec.models.base import Model
from agenticrec.pipeline import RunConfig, TrainedRun, load_run
from agenticrec.pipeline.run import COMPOSE


def agent_run_dir(path: Path) -> Path:
    """A trained run directory; an evolve run directory stands for its best config retrained (its best.json)."""
    best = path / "best.json"
    return Path(json.loads(best.read_text())["run_dir"]) if best.is_file() else path


def load_agents(agents: dict[str, Path]) -> dict[str, TrainedRun]:
    """Every agent's run, refused unless all rank the same catalogue and none trained on validation items."""
    if len(agents) < 2:
        raise AgenticRecError("composition needs at least two agents (NAME=RUN_DIR)")
    runs = {name: load_run(agent_run_dir(path)) for name, path in agents.items()}
    datasets = {name: (run.config.data.name, run.dataset.n_items) for name, run in runs.items()}
    if len(set(datasets.values())) > 1:
        raise AgenticRecError(f"agents rank different catalogues: {datasets}")
    if refit := [name for name, run in runs.items() if run.config.train.refit]:
        raise AgenticRecError(f"{', '.join(refit)} trained on validation items (train.refit); they cannot be fused")
    return runs


def agent_scores(runs: dict[str, TrainedRun], users: EvalSet) -> dict[str, Scores]:
    """Each agent's full-catalogue scores of ``users``."""
    return {name: run.model.score_batched(users.histories) for name, run in runs.items()}


def compose_agents(config: RunConfig, agents: dict[str, Path]) -> dict[str, Any]:
    """Search the composition on validation by the outer reward and measure it on test (see the module doc)."""
    evolve = config.evolve
    fusion_card, routing_card = load_card(evolve.fusion_card), load_card(evolve.routing_card)
    runs = load_agents(agents)
    save_config(config, config.run_dir)
    first = next(iter(runs.values()))
    counts, mask = first.counts, first.config.evaluate.mask_history
    valid = first.split.stage("valid").sample(evolve.compose_users, config.seed)
    valid_scores = agent_scores(runs, valid)
    reward = outer_reward(valid.histories, valid.targets, counts, evolve.tail_weight, mask)
    variants = [
        (cast(Method, p["method"]), cast(Normalisation, p.get("normalisation", "minmax")))
        for p in fusion_card.space.grid()
    ]
    fusion, fusion_valid = best_fusion(valid_scores, reward, steps=evolve.fusion_steps, variants=variants)
    selected, selected_valid, dropped = select_agents(valid_scores, reward, evolve.fusion_steps, variants)
    options = [Fusion((name,), (1.0,)) for name in valid_scores] + [fusion]
    routings = {}
    for point in routing_card.space.grid():
        segmenter = Segmenter.fit(valid.histories, counts, cast(SegmentBy, point["segment_by"]))
        routing = route(valid_scores, valid.histories, counts, segmenter, reward, options)
        routings[segmenter.by] = (routing, _value(reward, routing.apply(valid_scores, valid.histories, counts)))
    segment_by = max(routings, key=lambda by: routings[by][1])
    routing, routing_valid = routings[segment_by]
    del valid_scores
    test = first.split.stage("test").sample(evolve.compose_users, config.seed + 1)
    test_scores = agent_scores(runs, test)
    test_ndcg = outer_reward(test.histories, test.targets, counts, 0.0, mask)
    single = {name: _value(test_ndcg, s) for name, s in test_scores.items()}
    composed = {
        "fusion": (fusion_valid, _value(test_ndcg, fusion.apply(test_scores))),
        "selection": (selected_valid, _value(test_ndcg, selected.apply(test_scores))),
        "routing": (routing_valid, _value(test_ndcg, routing.apply(test_scores, test.histories, counts))),
    }
    systems: dict[str, System] = {"fusion": fusion, "selection": selected, "routing": routing}
    chosen = max(composed, key=lambda k: composed[k][0])  # decided on validation
    result = {
        "agents": {name: str(agent_run_dir(path)) for name, path in agents.items()},
        "users": evolve.compose_users,
        "outer_reward": f"validation NDCG@10 + {evolve.tail_weight}·tail exposure@10",
        "single_test_ndcg10": single,
        "fusion": fusion.label(),
        "fusion_weights": dict(zip(fusion.agents, fusion.weights)),
        "selected": selected.label(),
        "dropped": dropped,
        "routing_segment_by": segment_by,
        "routing": {
            segment: {"served_by": f.label(), "valid_outer": routing.rewards[segment]}
            for segment, f in routing.segments.items()
        },
        "options": {k: {"valid_outer": v, "test_ndcg10": t} for k, (v, t) in composed.items()},
        "chosen": chosen,
        "composed_test_ndcg10": composed[chosen][1],
        "system": system_record(systems[chosen]),
        "single_best_test_ndcg10": max(single.values()),
    }
    write_json(config.run_dir / COMPOSE, result)
    return result


def _value(reward: Reward, scores: Scores) -> float:
    return reward(scores, np.arange(scores.shape[0]))


class ComposedModel(Model):
    """The chosen system of a composition as a model: each agent it uses scores the histories, and the fusion or
    routing combines them (so it evaluates, serves and re-ranks like any trained run)."""

    trains = False

    def __init__(self, agents: dict[str, Model], system: System, item_counts: np.ndarray) -> None:
        self.agents, self.system, self.item_counts = agents, system, item_counts

    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        scores = {name: self.agents[name].score_batched(histories) for name in self.system.agents}
        if isinstance(self.system, Routing):
            fused = self.system.apply(scores, histories, self.item_counts)
        else:
            fused = self.system.apply(scores)
        return torch.from_numpy(fused).float()


@dataclass(frozen=True)
class Composition:
    """A composition read back: its record (compose.json), the runs of the agents its system uses, and the model."""

    run_dir: Path
    record: dict[str, Any]
    runs: dict[str, TrainedRun]
    model: ComposedModel


def load_composition(run_dir: Path, load: Callable[[Path], TrainedRun] = load_run) -> Composition:
    """The composition in ``run_dir``; ``load`` reads each agent's run (paths as recorded, relative to the
    directory the composition was made from unless absolute)."""
    path = Path(run_dir) / COMPOSE
    if not path.is_file():
        raise AgenticRecError(f"{run_dir} holds no composition ({COMPOSE}); make one with `agenticrec evolve compose`")
    record = json.loads(path.read_text())
    if "system" not in record:
        raise AgenticRecError(f"{path} predates servable compositions; run `agenticrec evolve compose` again")
    system = system_from_record(record["system"])
    missing = [
        f"{name}={record['agents'][name]}" for name in system.agents if not Path(record["agents"][name]).is_dir()
    ]
    if missing:
        raise AgenticRecError(f"{run_dir}: agent runs not found: {', '.join(missing)} (paths as recorded in {COMPOSE})")
    runs = {name: load(Path(record["agents"][name])) for name in system.agents}
    first = next(iter(runs.values()))
    model = ComposedModel({name: run.model for name, run in runs.items()}, system, first.counts)
    return Composition(Path(run_dir), record, runs, model)
