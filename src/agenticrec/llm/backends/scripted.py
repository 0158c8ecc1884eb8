"""Scripted test double: a Python callable plays the model, so stages can test every branch offline."""

from __future__ import annotations

from typing import Any

from agenticrec.llm.backends.base import Backend, count_words
from agenticrec.llm.calls import Completion, Message
from agenticrec.llm.config import SamplingParams, ScriptedBackendConfig


class ScriptedBackend(Backend):
    """Calls `script(messages, schema)`; it returns the response text or raises a `BackendFault`.

    Any other exception from the script propagates, so a bug in a test script is not mistaken for a
    model failure.
    """

    kind = "scripted"

    def __init__(self, cfg: ScriptedBackendConfig):
        self.script = cfg.script
        self.model = cfg.name
        self.max_concurrency = cfg.max_concurrency

    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        text = self.script([dict(m) for m in messages], schema)
        if not isinstance(text, str):
            raise TypeError(f"scripted LLM must return str, got {type(text).__name__}")
        return Completion(text=text, tokens_in=count_words(messages), tokens_out=len(text.split()))
