"""The LLM proposer (role ``evolver``): the agent card, its space and the trial history (rewards and failures,
the experience memory) in; the next configuration and a rationale out, checked against the space. A proposal
outside the space goes back to the model with the reasons (the client's repair loop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.space import Space
from agenticrec.llm import LLMCallError, LLMClient, chat, load_prompt
from agenticrec.sections.evolve import EVOLVER


def proposal_model(space: Space, tried: Sequence[dict[str, Any]] = ()) -> type[BaseModel]:
    """A schema with one field per decision (conditional ones optional) whose validator is the space's check; a
    config already in ``tried`` (trial history entries) is refused too."""
    fields: dict[str, Any] = {"rationale": (str, Field(max_length=400))}
    for name, param in space.params.items():
        kind: Any = (
            Literal[tuple(param.choices)] if param.kind == "choice" else {"int": int, "float": float}[param.kind]
        )
        fields[name] = (kind | None, None) if param.when else (kind, ...)

    def check(proposal: BaseModel) -> BaseModel:
        config = {k: v for k, v in proposal.model_dump(exclude={"rationale"}).items() if v is not None}
        if problems := space.problems(space.normalise(config)):
            raise ValueError("; ".join(problems))
        for trial in tried:
            if trial["params"] == space.normalise(config):
                raise ValueError(f"trial {trial['number']} already tried this configuration; propose a new one")
        return proposal

    validators: dict[str, Any] = {"in_space": model_validator(mode="after")(check)}
    model: type[BaseModel] = create_model("Proposal", __validators__=validators, **fields)
    return model


def history_lines(history: list[dict[str, Any]], reward: str) -> str:
    if not history:
        return "(no trials yet)"
    lines = []
    for trial in history:
        outcome = f"{reward} = {trial['inner']:.4f}" if trial.get("inner") is not None else f"FAILED: {trial['error']}"
        lines.append(f"- trial {trial['number']}: {trial['params']} -> {outcome}")
    return "\n".join(lines)


def propose(
    client: LLMClient, card: AgentCard, history: list[dict[str, Any]], shown: int
) -> tuple[dict[str, Any], str] | None:
    """The next configuration and its rationale, or None when the model gave no valid one."""
    system = load_prompt(__file__, "prompts/evolver.md").render(
        reward=card.inner_reward, description=card.description, space=card.space.describe()
    )
    user = (
        f"Trial history, oldest first:\n{history_lines(history[-shown:], card.inner_reward)}\n\n"
        "Propose the next configuration. It must differ from every configuration above in at least one decision."
    )
    schema = proposal_model(card.space, history)
    try:
        result = client.call(EVOLVER, chat(system, user), schema, params={"max_tokens": 400})
    except LLMCallError:  # still invalid (e.g. a repeat) after the repairs
        return None
    if result.value is None:
        return None
    values = result.value.model_dump()
    rationale = str(values.pop("rationale"))
    return card.space.normalise({k: v for k, v in values.items() if v is not None}), rationale
