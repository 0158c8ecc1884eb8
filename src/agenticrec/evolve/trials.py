"""One trial: an agent's configuration trained and evaluated through the ordinary pipeline at proxy (or full)
fidelity, and the rewards read off its validation metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agenticrec.evolve.card import AgentCard
from agenticrec.io import atomic_write_text
from agenticrec.pipeline import RunConfig, load_config, train_and_evaluate

TRIAL_BASE = "trial-base.yaml"


@dataclass(frozen=True)
class Rewards:
    tail_weight: float = 0.0
    cost_weight: float = 0.0

    def outer(self, valid: dict[str, float], train_seconds: float) -> float:
        """System reward: NDCG@10 + lambda * tail exposure@10 - mu * training minutes."""
        return (
            valid["ndcg@10"]
            + self.tail_weight * valid.get("exposure@10_tail", 0.0)
            - self.cost_weight * train_seconds / 60
        )


def write_trial_base(config: RunConfig) -> Path:
    """The evolve run's config without its model, which each trial's card and decisions set."""
    base = config.model_dump(mode="json", exclude={"model", "run_dir", "evolve"})
    path = config.run_dir / TRIAL_BASE
    config.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, yaml.safe_dump(base, sort_keys=False))
    return path


def run_trial(
    base: Path, card: AgentCard, params: dict[str, Any], fidelity: list[str], run_dir: Path, rewards: Rewards
) -> dict[str, Any]:
    """Train and evaluate one configuration in ``run_dir`` (reused if it finished before); its rewards and metrics."""
    metrics_path = run_dir / "metrics.json"
    if metrics_path.is_file():
        result = json.loads(metrics_path.read_text())
    else:
        config = load_config(base, [*card.overrides(params), *fidelity, f"run_dir={run_dir}"])
        result = train_and_evaluate(config)
    valid = {k: float(v) for k, v in result["valid"].items() if isinstance(v, int | float)}
    seconds = float(result.get("train", {}).get("train_seconds") or result.get("wall_seconds") or 0.0)
    return {
        "inner": valid[card.inner_reward],
        "outer": rewards.outer(valid, seconds),
        "valid": valid,
        "test": {k: float(v) for k, v in result.get("test", {}).items() if isinstance(v, int | float)},
        "seconds": seconds,
    }
