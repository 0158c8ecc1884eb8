"""An agent's decision space: named choices and ranges, some active only under another choice. One place samples
(seeded, per trial), suggests (Optuna), checks (LLM proposals) and turns a configuration into run overrides."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

Value = int | float | str | bool


class Param(BaseModel):
    """One decision: ``choices``, or an int/float range (``log`` for scale-free ones like a learning rate).
    ``when`` makes it active only if other decisions have the given values; ``key`` is the run-config key it sets."""

    key: str
    kind: Literal["choice", "int", "float"]
    choices: list[Value] = Field(default_factory=list)
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    default: Value
    when: dict[str, Value] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Param:
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.key}: a choice needs at least one choice")
        if self.kind != "choice" and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError(f"{self.key}: a range needs low <= high")
        if (problem := self.problem(self.default)) is not None:
            raise ValueError(f"{self.key}: default {problem}")
        return self

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is outside this decision, or None."""
        if self.kind == "choice":
            return None if value in self.choices else f"{value!r} is not one of {self.choices}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r} is not a number"
        if self.kind == "int" and not float(value).is_integer():
            return f"{value!r} is not an integer"
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            return f"{value!r} is outside [{self.low}, {self.high}]"
        return None

    def sample(self, rng: np.random.Generator) -> Value:
        if self.kind == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = self.step or 1
            return int(self.low) + step * int(rng.integers((int(self.high) - int(self.low)) // step + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def suggest(self, trial: Any, name: str) -> Value:
        """The value an Optuna trial suggests."""
        if self.kind == "choice":
            return trial.suggest_categorical(name, self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return int(trial.suggest_int(name, int(self.low), int(self.high), step=self.step or 1, log=self.log))
        return float(trial.suggest_float(name, self.low, self.high, log=self.log))

    def levels(self, count: int) -> list[Value]:
        """The values a structured proposal may take: every choice, or ``count`` points spread over the range
        (geometrically on a log scale; every step of an int range no longer than ``count``)."""
        if self.kind == "choice":
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            values = list(range(int(self.low), int(self.high) + 1, self.step or 1))
            if len(values) <= count:
                return list(values)
            spread = np.geomspace(1, len(values), count) - 1 if self.log else np.linspace(0, len(values) - 1, count)
            return [values[i] for i in sorted({round(float(x)) for x in spread})]
        points = np.geomspace(self.low, self.high, count) if self.log else np.linspace(self.low, self.high, count)
        return sorted({min(max(float(f"{x:.3g}"), self.low), self.high) for x in points})

    def describe(self, values: list[Value] | None = None) -> str:
        """The decision in words; with ``values``, as the list a proposal takes its value from."""
        if values is not None or self.kind == "choice":
            text = f"one of {self.choices if values is None else values}"
        else:
            text = f"{self.kind} in [{self.low}, {self.high}]" + (" (log scale)" if self.log else "")
        condition = f", only when {self.when}" if self.when else ""
        return f"{text}, default {self.default!r}{condition}"


class Space(BaseModel):
    params: dict[str, Annotated[Param, Field()]]

    def active(self, name: str, config: dict[str, Value]) -> bool:
        return all(config.get(other) == value for other, value in self.params[name].when.items())

    def default(self) -> dict[str, Value]:
        return self.complete({name: p.default for name, p in self.params.items()})

    def sample(self, rng: np.random.Generator) -> dict[str, Value]:
        return self.complete({name: p.sample(rng) for name, p in self.params.items()})

    def suggest(self, trial: Any) -> dict[str, Value]:
        config: dict[str, Value] = {}
        for name, param in self.params.items():  # conditions refer to earlier decisions
            if self.active(name, config):
                config[name] = param.suggest(trial, name)
        return config

    def problems(self, config: dict[str, Any]) -> list[str]:
        """Every reason ``config`` is not a point of this space (empty if it is)."""
        found = [f"{name}: not a decision of this agent" for name in config if name not in self.params]
        for name, param in self.params.items():
            if not self.active(name, config):
                continue
            if name not in config:
                found.append(f"{name}: missing ({param.describe()})")
            elif (problem := param.problem(config[name])) is not None:
                found.append(f"{name}: {problem}")
        return found

    def normalise(self, config: dict[str, Any]) -> dict[str, Value]:
        """A valid config with inactive decisions dropped and integers as int."""
        out: dict[str, Value] = {}
        for name, param in self.params.items():
            if name in config and self.active(name, {**out, **config}):
                out[name] = int(config[name]) if param.kind == "int" else config[name]
        return out

    def levels(self, count: int) -> dict[str, list[Value]]:
        """Each decision's values for structured proposals and moves (``Param.levels``)."""
        return {name: param.levels(count) for name, param in self.params.items()}

    def complete(self, config: dict[str, Value]) -> dict[str, Value]:
        """``config`` with each active decision it lacks at its default and inactive ones dropped."""
        out: dict[str, Value] = {}
        for name, param in self.params.items():  # conditions refer to earlier decisions
            if self.active(name, out):
                out[name] = config.get(name, param.default)
        return self.normalise(out)

    def grid(self) -> list[dict[str, Value]]:
        """Every point of a space of choices (conditions respected): small spaces are searched exhaustively."""
        if ranges := [name for name, p in self.params.items() if p.kind != "choice"]:
            raise ValueError(f"only a space of choices has a grid; {', '.join(ranges)} are ranges")
        points: list[dict[str, Value]] = [{}]
        for name, param in self.params.items():  # conditions refer to earlier decisions
            grown: list[dict[str, Value]] = []
            for point in points:
                grown += [{**point, name: v} for v in param.choices] if self.active(name, point) else [point]
            points = grown
        return points

    def overrides(self, config: dict[str, Value]) -> list[str]:
        return [f"{self.params[name].key}={value}" for name, value in config.items()]

    def describe(self, levels: dict[str, list[Value]] | None = None) -> str:
        """One line per decision; with ``levels``, each as the values a proposal may take."""
        return "\n".join(
            f"- {name} ({p.key}): {p.describe(None if levels is None else levels[name])}"
            for name, p in self.params.items()
        )


def config_text(config: dict[str, Any]) -> str:
    """A configuration as a prompt shows it: ``name=value`` pairs, numbers to 3 significant digits as the grid levels
    are (a sampled ``lr=0.0020028557140037003`` costs the model 15 tokens and tells it no more than ``lr=0.002``)."""
    shown = {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in config.items()}
    return ", ".join(f"{name}={value}" for name, value in shown.items())


def config_key(config: dict[str, Any]) -> str:
    """A configuration as a hashable key, whatever the order of its decisions."""
    return repr(sorted(config.items()))
