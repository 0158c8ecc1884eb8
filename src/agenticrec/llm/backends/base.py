"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from agenticrec.llm.calls import Completion, Message
from agenticrec.llm.config import SamplingParams
from agenticrec.llm.ratelimit import RateLimiter


class Backend(ABC):
    """One model behind one transport.

    `complete` turns messages into a `Completion` or raises a `BackendFault`; retries, validation and
    the ledger are the client's business. `kind` and `model` form part of every ledger key.
    """

    kind: str
    model: str
    max_concurrency: int = 1
    limiter: RateLimiter = RateLimiter(None, None)

    async def start(self) -> None:
        """Load the model or check the server, once, before the first request; raise `LLMError` if unusable."""

    @abstractmethod
    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        """Answer one request; constrain the answer to `schema` where the backend can."""

    async def aclose(self) -> None:
        """Release connections, threads or memory."""


def count_words(messages: list[Message]) -> int:
    """Rough token count for backends that report none."""
    return sum(len(m.get("content", "").split()) for m in messages)
