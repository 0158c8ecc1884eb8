"""Plain data passed between the client, the backends and the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Message = dict[str, str]
"""A chat message: {"role": "system" | "user" | "assistant", "content": "..."}."""

T = TypeVar("T")


@dataclass(frozen=True)
class Completion:
    """What a backend returns for one request."""

    text: str
    tokens_in: int
    tokens_out: int
    truncated: bool = False  # generation stopped at max_tokens


@dataclass(frozen=True)
class OptionScore:
    """Log-probability of one option's tokens as the answer to a prompt."""

    logprob: float  # summed over the option's tokens
    tokens: int

    @property
    def mean(self) -> float:
        """Mean log-prob per token: comparable between options of different lengths."""
        return self.logprob / max(self.tokens, 1)


@dataclass(frozen=True)
class Scoring:
    """What a backend returns for one request scored against its options."""

    scores: list[OptionScore]
    tokens_in: int  # prompt plus option tokens evaluated


@dataclass(frozen=True)
class Usage:
    """Tokens spent by a call, summed over its attempts."""

    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class LLMResult(Generic[T]):
    """Outcome of one request.

    `value` is the validated output-model instance (the raw text when no output model was given);
    it is None exactly when `error` is set.
    """

    value: T | None
    text: str | None
    usage: Usage
    cached: bool
    attempts: int
    latency_s: float
    key: str
    error: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None
