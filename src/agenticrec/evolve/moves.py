"""Structured moves in a decision space: change one decision of a configuration to an adjacent level (a numeric
decision) or to another choice. The bandit's actions, and how a repeated proposal becomes an untried one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agenticrec.evolve.space import Space, Value, config_key


def changeable(space: Space, config: dict[str, Value], levels: dict[str, list[Value]]) -> list[str]:
    """The decisions active in ``config`` that have another level to move to."""
    return [name for name in space.params if space.active(name, config) and len(levels[name]) > 1]


def change_one(
    space: Space, config: dict[str, Value], decision: str, levels: dict[str, list[Value]], rng: np.random.Generator
) -> dict[str, Value]:
    """``config`` with ``decision`` moved: a choice to another choice, a number to a level next to its value."""
    values, current = levels[decision], config[decision]
    if space.params[decision].kind == "choice":
        others = [v for v in values if v != current]
        value = others[int(rng.integers(len(others)))]
    else:
        nearest = int(np.argmin([abs(float(v) - float(current)) for v in values]))
        steps = [i for i in (nearest - 1, nearest + 1) if 0 <= i < len(values)]
        if values[nearest] != current:  # off the grid (a random or TPE value): its nearest level is a move too
            steps.append(nearest)
        value = values[steps[int(rng.integers(len(steps)))]]
    return space.complete({**config, decision: value})


def untried(
    space: Space,
    config: dict[str, Value],
    levels: dict[str, list[Value]],
    tried: Sequence[dict[str, Any]],
    rng: np.random.Generator,
    decisions: Sequence[str] | None = None,
    attempts: int = 50,
) -> tuple[dict[str, Value], str | None]:
    """A configuration one decision (of ``decisions``, default any) away from ``config`` that is not in ``tried``,
    and the decision moved; a seeded sample of the space (and None) if every move drawn was tried."""
    seen = {config_key(t) for t in tried}
    movable = [d for d in changeable(space, config, levels) if decisions is None or d in decisions]
    for _ in range(attempts if movable else 0):
        decision = movable[int(rng.integers(len(movable)))]
        moved = change_one(space, config, decision, levels, rng)
        if config_key(moved) not in seen:
            return moved, decision
    return space.sample(rng), None
