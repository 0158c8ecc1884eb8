"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from agenticrec.llm.calls import Completion, Message, Scoring
from agenticrec.llm.config import BackendConfig, SamplingParams
from agenticrec.llm.errors import ScoringUnsupported
from agenticrec.llm.ratelimit import RateLimiter


class Backend(ABC):
    """One model behind one transport.

    `complete` turns messages into a `Completion` or raises a `BackendFault`; retries, validation and
    the ledger are the client's business. `kind` and `model` form part of every ledger key. Every
    backend class is built as `Backend(name, cfg)` from its entry in `llm.backends`.
    """

    kind: str
    model: str
    max_concurrency: int = 1
    limiter: RateLimiter = RateLimiter(None, None)

    def __init__(self, name: str, cfg: BackendConfig) -> None:
        self.name = name

    async def start(self) -> None:  # noqa: B027  (optional hook)
        """Load the model or check the server, once, before the first request; raise `LLMError` if unusable."""

    @abstractmethod
    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        """Answer one request; constrain the answer to `schema` where the backend can."""

    async def score_options(self, messages: list[Message], options: list[str]) -> Scoring:
        """Log-prob of each option's tokens as the start of the assistant's answer to `messages`.

        Raises `ScoringUnsupported` where the backend has no log-probs (the default).
        """
        raise ScoringUnsupported(f"{self.kind} backend {self.model!r} cannot score options")

    async def count_tokens(self, texts: list[str]) -> list[int] | None:
        """Each text's length in the model's own tokens; None where the backend has no tokenizer (the default)."""
        return None

    async def aclose(self) -> None:  # noqa: B027  (optional hook)
        """Release connections, threads or memory."""


def count_words(messages: list[Message]) -> int:
    """Rough token count for backends that report none."""
    return sum(len(m.get("content", "").split()) for m in messages)
