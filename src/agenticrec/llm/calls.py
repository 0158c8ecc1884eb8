"""Plain data passed between the client, the backends and the stages."""

from __future__ import annotations

from collections.abc import Sequence
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


Request = str | Sequence[Message]
"""A request: a list of chat messages, or a string sent as one user message."""


def as_messages(request: Request) -> list[Message]:
    """The request as chat messages, each checked to have a string role and content."""
    if isinstance(request, str):
        return [{"role": "user", "content": request}]
    msgs = [dict(m) for m in request]
    for m in msgs:
        if not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise TypeError(f"a message needs string 'role' and 'content', got {m!r}")
    return msgs
