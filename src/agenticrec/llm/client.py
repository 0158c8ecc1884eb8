"""`LLMClient`: the one way agenticrec calls an LLM.

    client = LLMClient(config.llm, run_dir)
    result = client.call("judge", messages, Verdict)            # one call; raises LLMCallError on failure
    results = client.batch("annotator", many_messages, Label)   # many calls, concurrent, with progress
    results = client.stream("signal_writer", catalogue_requests)  # lazily, a window of calls at a time
    picks = client.choose("annotator", many_messages, options)  # one option per request (see llm/choice.py)

Each request is answered from the ledger when an identical one (same backend, model, messages, schema,
sampling) already succeeded; otherwise it is sent with bounded retries (transient faults: backoff with
jitter, honouring Retry-After; invalid output: re-asked with the validation error) and the outcome is
committed to the ledger at once. The public API is synchronous: `LocalCalls` (llm/pool.py) answers requests on an
asyncio loop in a background thread, and `RayBatches` (llm/ray_executor.py) shards them over Ray actors when
`llm.executor.kind` is ray. A role is resolved once per call (`LLMConfig.resolve`) and passed down as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agenticrec.llm.backends import build_backend
from agenticrec.llm.calls import LLMResult, Request, as_messages
from agenticrec.llm.choice import ChoiceResult, choose
from agenticrec.llm.config import LLMConfig, ResolvedRole
from agenticrec.llm.errors import LLMCallError
from agenticrec.llm.ledger import Ledger
from agenticrec.llm.pool import LocalCalls, group_keys, parse_scores, request_keys, score_keys
from agenticrec.llm.ray_executor import RayBatches
from agenticrec.llm.structured import parse_output, schema_for
from agenticrec.llm.usage import UsageMeter


class LLMClient:
    """Calls roles of an `LLMConfig`; the ledger lives in `run_dir` (in memory when `run_dir` is None)."""

    def __init__(self, config: LLMConfig | None = None, run_dir: str | Path | None = None):
        self.config = config or LLMConfig()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.local = LocalCalls(self.config, self.run_dir)
        """What this process answers itself: its backends, its loop and the ledger."""
        self._ray: RayBatches | None = None

    @property
    def ledger(self) -> Ledger:
        """Every call this client paid for or answered from the run's ledger."""
        return self.local.ledger

    @property
    def usage(self) -> UsageMeter:
        """What this client's callers received, per role (calls, cached, failed, tokens)."""
        return self.local.usage

    def call(
        self,
        role: str,
        messages: Request,
        output_model: type[BaseModel] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> LLMResult:
        """One request; returns the validated result or raises `LLMCallError` after bounded retries."""
        result = self.batch(role, [messages], output_model, params=params, progress=False)[0]
        if not result.ok:
            raise LLMCallError(
                f"LLM call for role {role!r} failed after {result.attempts} attempts: {result.error}",
                result.errors,
            )
        return result

    def batch(
        self,
        role: str,
        requests: Sequence[Request],
        output_model: type[BaseModel] | None = None,
        *,
        params: dict[str, Any] | None = None,
        concurrency: int | None = None,
        progress: bool | None = None,
    ) -> list[LLMResult]:
        """Answer many requests, `concurrency` at a time (default: the backend's `max_concurrency`).

        Returns one result per request, in order. A request that still fails after its retries comes
        back with `ok == False` and its errors (and is counted in the ledger); the batch raises
        `LLMError` only when the backend is unusable or `abort_after_failures` calls fail in a row.
        """
        if not requests:
            return []
        resolved, show = self.config.resolve(role), self.config.progress if progress is None else progress
        if self.config.executor.kind == "ray":
            backend = build_backend(resolved.backend, resolved.backend_config)  # not started: it names the model
            convos = [as_messages(r) for r in requests]
            keys = request_keys(backend, convos, schema_for(output_model), resolved.sampling(params))
            extra = {"output_model": output_model, "params": params, "concurrency": self.config.executor.concurrency}
            return self._on_ray("batch", resolved, requests, keys, lambda text: parse_output(text, output_model),
                                lambda _: extra, show)  # fmt: skip
        return self.local.batch(resolved, list(requests), output_model, params, concurrency, show)

    def stream(
        self,
        role: str,
        requests: Iterable[Request],
        output_model: type[BaseModel] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> Iterator[LLMResult]:
        """`batch` over an iterable too large to hold: takes `llm.executor.window` requests at a time, answers each
        window as one batch and yields its results in order, so memory is bounded by the window, not the input."""
        pending = iter(requests)
        while window := list(islice(pending, self.config.executor.window)):
            yield from self.batch(role, window, output_model, params=params)

    def score(
        self, role: str, requests: Sequence[Request], options: Sequence[Sequence[str]], *, progress: bool | None = None
    ) -> list[LLMResult]:
        """Log-prob of each request's options as the answer to it; `value` is a list of `OptionScore`.

        Cached and retried like `batch`; raises `ScoringUnsupported` when the role's backend cannot score.
        """
        if len(options) != len(requests):
            raise ValueError(f"{len(requests)} requests but {len(options)} option lists")
        if not requests:
            return []
        resolved, show = self.config.resolve(role), self.config.progress if progress is None else progress
        lists = [list(o) for o in options]
        if self.config.executor.kind == "ray":
            backend = build_backend(resolved.backend, resolved.backend_config)  # not started: it names the model
            keys = score_keys(backend, [as_messages(r) for r in requests], lists)
            return self._on_ray("score", resolved, requests, keys, parse_scores,
                                lambda chunk: {"options": [lists[i] for i in chunk]}, show)  # fmt: skip
        return self.local.score(resolved, list(requests), lists, show)

    def choose(
        self,
        role: str,
        requests: Sequence[Request],
        options: Sequence[Sequence[str]],
        *,
        content_free: Sequence[Request] | None = None,
        progress: bool | None = None,
    ) -> list[ChoiceResult]:
        """Pick one of `options[i]` for each request, the way the role's `choice` mode says (llm/choice.py)."""
        return choose(self, role, requests, options, content_free=content_free, progress=progress)

    def _on_ray(
        self,
        method: str,
        role: ResolvedRole,
        requests: Sequence[Request],
        keys: list[str],
        parse: Callable[[str], Any],
        extra: Callable[[list[int]], dict[str, Any]],
        show: bool,
    ) -> list[LLMResult]:
        """A batch sharded over Ray actors (llm/ray_executor.py), cached from this client's ledger like any."""
        if self._ray is None:
            self._ray = RayBatches(self.local)
        cached = lambda: self.local.cached(role.name, group_keys(keys), parse)  # noqa: E731  read after the merge
        results = self._ray.run(method, role.name, requests, keys, cached, extra, show)
        self.usage.add(role.name, results)
        return results

    def count_tokens(self, role: str, texts: Sequence[str]) -> tuple[list[int], str]:
        """Each text's length in tokens of the model behind `role`, and how it was counted.

        Backends without a tokenizer (remote endpoints) get an estimate of one token per 4 characters.
        """

        async def count() -> list[int] | None:
            backend = await self.local.backend(self.config.role(role).backend)
            return await backend.count_tokens(list(texts))

        counts = self.local.run(count()) if texts else []
        if counts is None:
            return [-(-len(text) // 4) for text in texts], "estimate: 4 characters per token"
        return counts, "tokenizer"

    def preflight(self) -> None:
        """Start every backend a role uses (the default's included): a missing key or model file, a refused
        credential or an unreachable server fails here, before a stage does any work."""

        async def start_all() -> None:
            for name in dict.fromkeys([self.config.default.backend, *(r.backend for r in self.config.roles.values())]):
                await self.local.backend(name)

        self.local.run(start_all())

    def close(self) -> None:
        """Release Ray actors, backends, the background loop and the ledger."""
        if self._ray is not None:
            self._ray.close()
            self._ray = None
        self.local.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
