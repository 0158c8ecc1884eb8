"""The LLM proposer (role ``evolver``): the agent card, its space and a compact experience memory (the best and the
worst trials with their rewards, the last failures with their reasons) in; the next configuration and a rationale
out. Validity is structural: every decision is an enum of the space's levels (ranges as a grid), so a grammar-
constrained answer is a point of the space, and an active decision the answer leaves out takes its default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, create_model

from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.config import EVOLVER
from agenticrec.evolve.moves import untried
from agenticrec.evolve.space import Space, Value, config_key, config_text
from agenticrec.llm import LLMCallError, LLMClient, chat, load_prompt


def proposal_model(space: Space, levels: dict[str, list[Value]]) -> type[BaseModel]:
    """A schema with one enum per decision (conditional ones optional): every answer it admits is in the space."""
    fields: dict[str, Any] = {"rationale": (str, Field(max_length=300))}  # within the grammar's length bound
    for name, param in space.params.items():
        kind: Any = Literal[tuple(levels[name])]
        fields[name] = (kind | None, None) if param.when else (kind, ...)
    model: type[BaseModel] = create_model("Proposal", **fields)
    return model


def trial_line(trial: dict[str, Any], reward: str) -> str:
    outcome = f"{reward} = {trial['inner']:.4f}" if trial.get("inner") is not None else f"FAILED: {trial['error']}"
    return f"- trial {trial['number']}: {config_text(trial['params'])} -> {outcome}"


def memory_lines(history: list[dict[str, Any]], reward: str, shown: int) -> str:
    """The experience memory: the ``shown`` best and worst finished trials and the last ``shown`` failures."""
    if not history:
        return "(no trials yet)"
    finished = sorted((t for t in history if t.get("inner") is not None), key=lambda t: -t["inner"])
    failed = [t for t in history if t.get("inner") is None]
    best, worst = finished[:shown], finished[shown:][-shown:]
    parts = ["Best, highest first:\n" + "\n".join(trial_line(t, reward) for t in best)] if best else []
    parts += ["Worst, highest first:\n" + "\n".join(trial_line(t, reward) for t in worst)] if worst else []
    parts += ["Last failures:\n" + "\n".join(trial_line(t, reward) for t in failed[-shown:])] if failed else []
    parts.append(f"{len(history)} trials so far: {len(finished)} finished, {len(failed)} failed.")
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Proposal:
    config: dict[str, Value]
    rationale: str
    repeat_of: int | None  # the model proposed this tried trial's config; one decision was changed


def propose(
    client: LLMClient,
    card: AgentCard,
    history: list[dict[str, Any]],
    levels: dict[str, list[Value]],
    shown: int,
    rng: np.random.Generator,
) -> Proposal | None:
    """The next configuration, or None when the model gave no answer. A repeat of a tried configuration becomes an
    untried neighbour of it (one decision moved to an adjacent level)."""
    system = load_prompt(__file__, "prompts/evolver.md").render(
        reward=card.inner_reward, description=card.description, space=card.space.describe(levels)
    )
    user = (
        f"Experience so far:\n{memory_lines(history, card.inner_reward, shown)}\n\n"
        "Propose the next configuration. It must differ from every configuration above in at least one decision."
    )
    try:
        result = client.call(
            EVOLVER, chat(system, user), proposal_model(card.space, levels), params={"max_tokens": 400}
        )
    except LLMCallError:
        return None
    if result.value is None:
        return None
    values = result.value.model_dump()
    rationale = str(values.pop("rationale"))
    config = card.space.complete({k: v for k, v in values.items() if v is not None})
    tried = {config_key(t["params"]): t["number"] for t in history}
    repeat_of = tried.get(config_key(config))
    if repeat_of is not None:
        config, _ = untried(card.space, config, levels, [t["params"] for t in history], rng)
    return Proposal(config, rationale, repeat_of)
