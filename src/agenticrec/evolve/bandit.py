"""Evolution by a bandit over structured actions, the minimal honest form of RL-based evolution: each arm is "change
this one decision of the incumbent" (the best trial so far), and Thompson sampling picks the arm. An arm wins when
its trial beats the incumbent it started from; a failed trial is a loss. The posterior is read back from the
trial history, so a resumed study goes on where it stopped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agenticrec.evolve.moves import changeable, untried
from agenticrec.evolve.space import Space, Value


@dataclass(frozen=True)
class Action:
    config: dict[str, Value]
    arm: str
    incumbent: float  # the reward the move has to beat


def posterior(history: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(wins, losses) of each arm played so far."""
    counts: dict[str, tuple[int, int]] = {}
    for trial in history:
        if trial.get("arm") is None:
            continue
        wins, losses = counts.get(trial["arm"], (0, 0))
        won = trial.get("inner") is not None and trial["inner"] > trial["incumbent"]
        counts[trial["arm"]] = (wins + won, losses + (not won))
    return counts


def next_action(
    space: Space, history: list[dict[str, Any]], levels: dict[str, list[Value]], rng: np.random.Generator
) -> Action | None:
    """The next move from the incumbent, or None before any trial has finished."""
    finished = [t for t in history if t.get("inner") is not None]
    if not finished:
        return None
    incumbent = max(finished, key=lambda t: t["inner"])
    arms = changeable(space, incumbent["params"], levels)
    if not arms:
        return None
    counts = posterior(history)
    draws = [rng.beta(1 + counts.get(arm, (0, 0))[0], 1 + counts.get(arm, (0, 0))[1]) for arm in arms]
    arm = arms[int(np.argmax(draws))]
    tried = [t["params"] for t in history]
    config, moved = untried(space, incumbent["params"], levels, tried, rng, decisions=[arm])
    if moved is None:  # every move of this arm was tried: any other untried move
        config, moved = untried(space, incumbent["params"], levels, tried, rng)
    return Action(config, moved or "random", float(incumbent["inner"]))
