"""The ``evolve:`` section: which agent evolves, by which method, on what trial budget and proxy, and the
rewards (inner: the agent's own validation metric; outer: the system's)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agenticrec.config import Section
from agenticrec.llm import register_role

EVOLVER = register_role(
    "evolver",
    "AgenticRS: reads an agent card, its decision space and the trial history, and proposes the next configuration.",
)

Method = Literal["random", "tpe", "llm", "llm-tpe", "chooser", "bandit"]


class EvolveConfig(Section):
    agent: str = Field("sasrec", description="a shipped agent card (see `agenticrec evolve cards`) or a YAML path")
    method: Method = Field(
        "tpe",
        description="random (seeded), tpe (Optuna), llm (role `evolver` proposes), llm-tpe (LLM proposals, then TPE), "
        "chooser (TPE samples candidates, role `evolver` ranks them), bandit (Thompson sampling over one-decision "
        "moves from the best trial)",
    )
    trials: int = Field(30, ge=1, description="proxy trials; the first is always the card's default config")
    llm_proposals: int = Field(5, ge=1, description="llm-tpe: trials the LLM proposes before TPE takes over")
    proxy: list[str] = Field(
        default_factory=lambda: [
            "train.max_minutes=2",
            "train.patience=3",
            "evaluate.valid_users=2000",
            "evaluate.test=false",
        ],
        description="run overrides of a low-fidelity trial (short budget, a user sample)",
    )
    retrain: bool = Field(True, description="retrain the best config at full fidelity after the study (run_dir/best)")
    full: list[str] = Field(default_factory=list, description="run overrides when the best config is retrained")
    tail_weight: float = Field(0.0, ge=0, description="outer reward: lambda, the weight of tail exposure@10")
    cost_weight: float = Field(0.0, ge=0, description="outer reward: mu, the weight of training minutes")
    executor: Literal["local", "ray"] = Field("local", description="where trials run; ray shares the Optuna storage")
    ray_address: str | None = Field(None, description="executor=ray: ray.init(address=...); None starts local Ray")
    ray_workers: int = Field(2, ge=1, description="executor=ray: trials in flight at once")
    memory: int = Field(3, ge=1, description="llm, chooser: the best, the worst and the failed trials the evolver sees")
    levels: int = Field(7, ge=2, description="llm, bandit: values of a numeric decision's grid (choices as they are)")
    candidates: int = Field(8, ge=2, description="chooser: configs TPE samples for the LLM to rank")
    fusion_card: str = Field("fusion", description="compose: the fusion agent's card (its methods and normalisations)")
    routing_card: str = Field("routing", description="compose: the routing agent's card (its segmentations)")
    compose_users: int = Field(
        5000, ge=10, description="compose: seeded validation users decide, as many seeded test users measure"
    )
    fusion_steps: int = Field(10, ge=1, description="compose: increments of the weighted fusion's weight grid")
