"""A toy agent whose reward is a known function of its config, so search logic is tested without training."""

from __future__ import annotations

from typing import Any

from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.space import Space
from agenticrec.testing.catalogues import successor_shop

TOY = AgentCard(
    name="toy",
    description="A toy agent: reward is highest at loss=ce, layers=2, lr=0.003.",
    role="retriever",
    space=Space.model_validate(
        {
            "params": {
                "loss": {"key": "model.loss", "kind": "choice", "choices": ["bce", "ce", "sampled_softmax"],
                         "default": "bce"},
                "negatives": {"key": "model.negatives", "kind": "choice", "choices": [64, 256], "default": 64,
                              "when": {"loss": "sampled_softmax"}},
                "layers": {"key": "model.num_layers", "kind": "int", "low": 1, "high": 4, "default": 1},
                "lr": {"key": "train.lr", "kind": "float", "low": 0.0001, "high": 0.01, "log": True,
                       "default": 0.001},
            }
        }
    ),
)  # fmt: skip


def toy_reward(params: dict[str, Any]) -> float:
    import math

    return (
        {"bce": 0.02, "ce": 0.05, "sampled_softmax": 0.04}[params["loss"]]
        - 0.005 * abs(params["layers"] - 2)
        - 0.01 * abs(math.log10(params["lr"] / 0.003))
    )


def tiny_shop(folder) -> list[str]:
    """Twelve items and 40 users who walk through them in order; the data overrides that load them."""
    return successor_shop(folder, [f"tea {i}" for i in range(12)], users=40, steps=5)


def fake_trial(base, card, params, fidelity, run_dir, rewards) -> dict[str, Any]:
    value = toy_reward(params)
    return {"inner": value, "outer": value, "valid": {"ndcg@10": value}, "test": {}, "seconds": 0.0}
