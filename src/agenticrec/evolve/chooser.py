"""The LLM as a chooser: a search method (TPE, fitted on the study's finished trials) samples k candidate
configurations and the LLM (role ``evolver``) only ranks them, by the calibrated score of each candidate as the
answer given the experience memory (llm/choice.py). The model picks among grounded candidates; it writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from agenticrec.evolve.card import AgentCard
from agenticrec.evolve.config import EVOLVER
from agenticrec.evolve.proposer import memory_lines
from agenticrec.evolve.space import Value, config_key, config_text
from agenticrec.llm import LLMClient, chat, load_prompt


@dataclass(frozen=True)
class Choice:
    config: dict[str, Value]
    candidates: int
    answered: bool  # False: the call failed and the first candidate (TPE's first sample) stands


def candidates(
    study: optuna.Study, card: AgentCard, count: int, seed: list[int], tried: list[dict[str, Any]]
) -> list[dict[str, Value]]:
    """Up to ``count`` distinct untried configs that TPE suggests from the study's finished trials (random ones
    while it has fewer than its startup trials). The study itself is not touched: TPE runs on a copy."""
    sampler = optuna.samplers.TPESampler(seed=int(np.random.default_rng(seed).integers(2**31)), n_startup_trials=5)
    shadow = optuna.create_study(direction="maximize", sampler=sampler)
    shadow.add_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    seen = {config_key(t) for t in tried}
    out: list[dict[str, Value]] = []
    for _ in range(count * 4):
        config = card.space.normalise(card.space.suggest(shadow.ask()))
        if (key := config_key(config)) not in seen:
            seen.add(key)
            out.append(config)
        if len(out) == count:
            break
    return out


def choose_config(
    client: LLMClient,
    card: AgentCard,
    history: list[dict[str, Any]],
    options: list[dict[str, Value]],
    levels: dict[str, list[Value]],
    shown: int,
) -> Choice:
    """The candidate the model ranks first (the first one if the call failed)."""
    system = load_prompt(__file__, "prompts/chooser.md").render(
        reward=card.inner_reward, description=card.description, space=card.space.describe(levels)
    )
    texts = [config_text(config) for config in options]
    listed = "\n".join(f"- {text}" for text in texts)

    def request(memory: str) -> list:  # candidates first: the content-free request ("N/A") shares them as a prefix
        return chat(system, f"Candidates:\n{listed}\n\nExperience so far:\n{memory}\n\nThe best candidate:")

    [result] = client.choose(
        EVOLVER,
        [request(memory_lines(history, card.inner_reward, shown))],
        [texts],
        content_free=[request("N/A")],
        progress=False,
    )
    return Choice(options[result.index or 0], len(options), result.index is not None)
