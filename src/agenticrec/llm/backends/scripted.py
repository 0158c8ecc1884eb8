"""Scripted test double: a Python callable plays the model, so stages can test every branch offline."""

from __future__ import annotations

from typing import Any

from agenticrec.llm.backends.base import Backend, count_words
from agenticrec.llm.calls import Completion, Message, OptionScore, Scoring
from agenticrec.llm.config import SamplingParams, ScriptedBackendConfig


class ScriptedBackend(Backend):
    """Calls `script(messages, schema)`; it returns the response text or raises a `BackendFault`.

    Options are scored by `scorer(messages, options)` (summed log-probs, one token per word of an option)
    where the config gives one. Any other exception from a callable propagates, so a bug in a test script
    is not mistaken for a model failure.
    """

    kind = "scripted"

    def __init__(self, name: str, cfg: ScriptedBackendConfig):
        super().__init__(name, cfg)
        self.script = cfg.script
        self.scorer = cfg.scorer
        self.model = cfg.name
        self.max_concurrency = cfg.max_concurrency

    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        text = self.script([dict(m) for m in messages], schema)
        if not isinstance(text, str):
            raise TypeError(f"scripted LLM must return str, got {type(text).__name__}")
        return Completion(text=text, tokens_in=count_words(messages), tokens_out=len(text.split()))

    async def score_options(self, messages: list[Message], options: list[str]) -> Scoring:
        if self.scorer is None:
            return await super().score_options(messages, options)
        logprobs = [float(x) for x in self.scorer([dict(m) for m in messages], list(options))]
        if len(logprobs) != len(options):
            raise ValueError(f"scripted scorer returned {len(logprobs)} scores for {len(options)} options")
        scores = [OptionScore(lp, max(len(o.split()), 1)) for lp, o in zip(logprobs, options, strict=True)]
        return Scoring(scores, count_words(messages) + sum(s.tokens for s in scores))
