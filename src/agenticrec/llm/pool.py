"""`LocalCalls`: the async side of `LLMClient` in this process. An asyncio loop in a background thread, the started
backends with one semaphore each, and the ledger: a request already answered is read back from it; any other is
sent with bounded retries, and its outcome is committed at once. A Ray actor runs its shard of a batch on one."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from agenticrec.llm.backends import Backend, build_backend
from agenticrec.llm.calls import LLMResult, Message, OptionScore, Request, Usage, as_messages
from agenticrec.llm.config import LLMConfig, ResolvedRole, SamplingParams
from agenticrec.llm.errors import BackendUnavailable, LLMError, RequestRejected, TransientFault
from agenticrec.llm.ledger import CallRecord, Ledger, request_key, score_key
from agenticrec.llm.progress import BatchProgress
from agenticrec.llm.retry import backoff_delay
from agenticrec.llm.structured import OutputInvalid, parse_output, repair_messages, schema_for
from agenticrec.llm.usage import UsageMeter

log = logging.getLogger(__name__)

R = TypeVar("R")
TEXT_BUDGET_GROWTH = 4


def group_keys(keys: list[str]) -> dict[str, list[int]]:
    """Request indices per ledger key: identical requests are sent once."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return groups


def request_keys(
    backend: Backend, convos: list[list[Message]], schema: dict[str, Any] | None, sampling: SamplingParams
) -> list[str]:
    """Each request's ledger key (local and Ray batches key the same request alike)."""
    return [request_key(backend.kind, backend.model, messages, schema, sampling) for messages in convos]


def score_keys(backend: Backend, convos: list[list[Message]], options: list[list[str]]) -> list[str]:
    """Each scoring request's ledger key."""
    return [score_key(backend.kind, backend.model, m, o) for m, o in zip(convos, options, strict=True)]


def parse_scores(text: str) -> list[OptionScore]:
    """Option scores as the ledger stores them: `[[logprob, tokens], ...]`."""
    try:
        return [OptionScore(float(lp), int(n)) for lp, n in json.loads(text)]
    except (ValueError, TypeError) as err:
        raise OutputInvalid(f"not a list of option scores: {err}") from None


class LocalCalls:
    """Answers batches of one role's requests in this process, ``concurrency`` at a time, through the ledger in
    ``run_dir`` (in memory when None)."""

    def __init__(self, config: LLMConfig, run_dir: Path | None):
        self.config = config
        self.run_dir = run_dir
        self.ledger = Ledger(run_dir / config.ledger if run_dir is not None else None)
        self.usage = UsageMeter()
        """What the callers received, per role (calls, cached, failed, tokens)."""
        self.backends: dict[str, Backend] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._start_lock: asyncio.Lock | None = None
        self._rng = random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def batch(
        self,
        role: ResolvedRole,
        requests: list[Request],
        output_model: type[BaseModel] | None = None,
        params: dict[str, Any] | None = None,
        concurrency: int | None = None,
        show: bool = False,
    ) -> list[LLMResult]:
        """One result per request, in order (see `LLMClient.batch`)."""
        return self.run(self._batch(role, requests, output_model, params, concurrency, show))

    def score(
        self, role: ResolvedRole, requests: list[Request], options: list[list[str]], show: bool = False
    ) -> list[LLMResult]:
        """Each request's option scores (see `LLMClient.score`)."""
        return self.run(self._score_batch(role, requests, options, show))

    def close(self) -> None:
        """Release the backends, the loop and the ledger."""
        if self._loop is not None:
            self.run(self._aclose())
            self._loop.call_soon_threadsafe(self._loop.stop)
            assert self._thread is not None
            self._thread.join()
            self._loop.close()
            self._loop = None
        self.ledger.close()

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run ``coro`` on the background loop (started on first use) and wait for its result."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="agenticrec-llm", daemon=True)
            self._thread.start()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("LLMClient methods cannot be called from inside an LLM callback")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    async def _aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
        self.backends.clear()

    async def backend(self, name: str) -> Backend:
        """The started backend `name`; the first use loads the model or checks the server."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if name not in self.backends:
                backend = build_backend(name, self.config.backends[name])
                try:
                    await backend.start()
                except BaseException:
                    await backend.aclose()  # a failed first check must not leave a session open
                    raise
                self.backends[name] = backend
                self._semaphores[name] = asyncio.Semaphore(backend.max_concurrency)
        return self.backends[name]

    # ---- batch and single request ---------------------------------------------------------------------

    async def _batch(
        self,
        role: ResolvedRole,
        requests: list[Request],
        output_model: type[BaseModel] | None,
        params: dict[str, Any] | None,
        concurrency: int | None,
        show: bool,
    ) -> list[LLMResult]:
        sampling = role.sampling(params)
        cap = (
            role.settings.max_tokens_cap
            if output_model
            else min(role.settings.max_tokens_cap, TEXT_BUDGET_GROWTH * sampling.max_tokens)
        )
        backend = await self.backend(role.backend)
        schema = schema_for(output_model)
        convos = [as_messages(r) for r in requests]
        groups = group_keys(request_keys(backend, convos, schema, sampling))
        cached = self.cached(role.name, groups, lambda text: parse_output(text, output_model))

        def one(key: str) -> Awaitable[LLMResult]:
            messages = convos[groups[key][0]]
            return self._one(role, backend, messages, output_model, schema, sampling, key, cap)

        return await self._pool(role, backend, groups, cached, one, concurrency, show)

    async def _score_batch(
        self, role: ResolvedRole, requests: list[Request], options: list[list[str]], show: bool
    ) -> list[LLMResult]:
        backend = await self.backend(role.backend)
        convos = [as_messages(r) for r in requests]
        groups = group_keys(score_keys(backend, convos, options))
        cached = self.cached(role.name, groups, parse_scores)

        def one(key: str) -> Awaitable[LLMResult]:
            i = groups[key][0]
            return self._score_one(role, backend, convos[i], options[i], key)

        return await self._pool(role, backend, groups, cached, one, None, show)

    async def _pool(
        self,
        role: ResolvedRole,
        backend: Backend,
        groups: dict[str, list[int]],
        cached: dict[str, LLMResult],
        one: Callable[[str], Awaitable[LLMResult]],
        concurrency: int | None,
        show: bool,
    ) -> list[LLMResult]:
        """Answer the requests grouped by key: `cached` from the ledger, the rest by `one(key)` in workers."""
        total = sum(len(idxs) for idxs in groups.values())
        results: list[LLMResult | None] = [None] * total
        for key, result in cached.items():
            for i in groups[key]:
                results[i] = result
        todo = deque(key for key in groups if key not in cached)
        abort: list[str] = []
        failures_in_row = 0
        bar = BatchProgress(role.name, total, show)
        for key, result in cached.items():
            bar.add(result, len(groups[key]))

        async def worker() -> None:
            nonlocal failures_in_row
            while todo and not abort:
                key = todo.popleft()
                idxs = groups[key]
                result = await one(key)
                for i in idxs:
                    results[i] = result
                if result.ok and len(idxs) > 1:
                    self.ledger.record_hits(role.name, [key] * (len(idxs) - 1))
                bar.add(result, len(idxs))
                failures_in_row = 0 if result.ok else failures_in_row + 1
                if failures_in_row >= self.config.abort_after_failures:
                    abort.append(f"{failures_in_row} LLM calls for role {role.name!r} failed in a row; "
                                 f"last error: {result.error}")  # fmt: skip

        tasks = [asyncio.create_task(worker()) for _ in range(min(concurrency or backend.max_concurrency, len(todo)))]
        try:
            await asyncio.gather(*tasks)
        except BackendUnavailable as fault:
            problem = f"LLM backend {role.backend!r} (role {role.name!r}) cannot serve requests: {fault}"
            raise LLMError(problem) from None
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            bar.close()
        if abort:
            raise LLMError(abort[0])
        self.usage.add(role.name, results)  # type: ignore[arg-type]  # every slot is filled once no worker aborted
        log.info(
            "LLM %s: %d requests, %d calls, %d cached, %d failed, %d tokens",
            role.name,
            total,
            bar.calls,
            bar.cached,
            bar.failed,
            bar.tokens,
        )
        return results  # type: ignore[return-value]

    def cached(self, role: str, groups: dict[str, list[int]], parse: Callable[[str], Any]) -> dict[str, LLMResult]:
        """Results of `groups` already in the ledger (those `parse` still accepts); counts the hits."""
        found: dict[str, LLMResult] = {}
        for key, rec in self.ledger.completed(groups).items():
            result = self._from_record(rec, parse)
            if result is not None:
                found[key] = result
        self.ledger.record_hits(role, [key for key in found for _ in groups[key]])
        return found

    def _from_record(self, rec: CallRecord, parse: Callable[[str], Any]) -> LLMResult | None:
        try:
            value = parse(rec.response or "")
        except OutputInvalid:
            return None
        return LLMResult(
            value=value,
            text=rec.response,
            usage=Usage(rec.tokens_in, rec.tokens_out),
            cached=True,
            attempts=rec.attempts,
            latency_s=rec.latency_s,
            key=rec.key,
            errors=rec.errors,
        )

    async def _one(
        self,
        role: ResolvedRole,
        backend: Backend,
        messages: list[Message],
        output_model: type[BaseModel] | None,
        schema: dict[str, Any] | None,
        sampling: SamplingParams,
        key: str,
        max_tokens_cap: int,
    ) -> LLMResult:
        """Send one request with bounded retries, record the outcome in the ledger, and return it.

        An answer cut off at max_tokens is a budget problem before it is a model problem: the identical request
        is sent again with twice the budget (up to `max_tokens_cap`), so a transient cut-off ends in the same
        answer as a run without one. A JSON answer that still does not parse is then repaired by the model; a
        text answer still cut off at the cap (for text: at most `TEXT_BUDGET_GROWTH` times the budget asked for,
        since a model that rambles past that rambles past any budget) fails, so a cut-off text is never stored
        as an answer.
        """
        retry = self.config.retry
        semaphore = self._semaphores[role.backend]
        estimate = sum(len(m["content"]) for m in messages) // 4 + sampling.max_tokens
        convo = messages
        budget = sampling
        errors: list[str] = []
        tokens_in = tokens_out = attempts = faults = repairs = 0
        text: str | None = None
        value: Any = None
        error: str | None = None
        start = time.monotonic()
        while True:
            attempts += 1
            try:
                await backend.limiter.acquire(estimate)
                async with semaphore:
                    completion = await backend.complete(convo, schema, budget)
            except TransientFault as fault:
                faults += 1
                errors.append(f"attempt {attempts}: {fault}")
                if faults >= retry.max_attempts:
                    error = f"gave up after {faults} transient faults; last: {fault}"
                    break
                await asyncio.sleep(backoff_delay(retry, faults, fault.retry_after, self._rng))
                continue
            except RequestRejected as fault:
                errors.append(f"attempt {attempts}: {fault}")
                error = f"request rejected: {fault}"
                break
            backend.limiter.settle(estimate, completion.tokens_in + completion.tokens_out)
            tokens_in += completion.tokens_in
            tokens_out += completion.tokens_out
            text = completion.text
            if completion.truncated and output_model is None:  # a cut-off text parses, but is not the answer
                if budget.max_tokens >= max_tokens_cap:
                    errors.append(f"attempt {attempts}: cut off at max_tokens {budget.max_tokens}")
                    error = f"the answer was still cut off at max_tokens {budget.max_tokens} (the cap)"
                    break
                budget = budget.model_copy(update={"max_tokens": min(2 * budget.max_tokens, max_tokens_cap)})
                continue
            try:
                value = parse_output(text, output_model, truncated=completion.truncated)
                break
            except OutputInvalid as bad:
                errors.append(f"attempt {attempts}: {bad}")
                if completion.truncated and convo is messages and budget.max_tokens < max_tokens_cap:
                    budget = budget.model_copy(update={"max_tokens": min(2 * budget.max_tokens, max_tokens_cap)})
                    continue
                repairs += 1
                if repairs > self.config.max_repairs:
                    error = f"invalid output after {repairs} answers; last: {bad}"
                    break
                convo = repair_messages(messages, text, str(bad))
        request = {"messages": messages, "schema": (schema or {}).get("title"), "params": sampling.model_dump()}
        return self._record(
            role.name, backend, key, request, value, text, (tokens_in, tokens_out), start, attempts, errors, error
        )

    async def _score_one(
        self, role: ResolvedRole, backend: Backend, messages: list[Message], options: list[str], key: str
    ) -> LLMResult:
        """Score one request's options with bounded retries, record the outcome in the ledger, and return it."""
        retry = self.config.retry
        estimate = sum(len(m["content"]) for m in messages) // 4 + sum(len(o) for o in options) // 2
        errors: list[str] = []
        attempts = tokens_in = 0
        value: list[OptionScore] | None = None
        error: str | None = None
        start = time.monotonic()
        while value is None and error is None:
            attempts += 1
            try:
                await backend.limiter.acquire(estimate)
                async with self._semaphores[role.backend]:
                    scoring = await backend.score_options(messages, options)
                backend.limiter.settle(estimate, scoring.tokens_in)
                value, tokens_in = scoring.scores, scoring.tokens_in
            except TransientFault as fault:
                errors.append(f"attempt {attempts}: {fault}")
                if attempts >= retry.max_attempts:
                    error = f"gave up after {attempts} transient faults; last: {fault}"
                else:
                    await asyncio.sleep(backoff_delay(retry, attempts, fault.retry_after, self._rng))
            except RequestRejected as fault:
                errors.append(f"attempt {attempts}: {fault}")
                error = f"request rejected: {fault}"
        text = None if value is None else json.dumps([[x.logprob, x.tokens] for x in value])
        request = {"messages": messages, "options": options, "mode": "score"}
        tokens = (tokens_in, 0)
        return self._record(role.name, backend, key, request, value, text, tokens, start, attempts, errors, error)

    def _record(
        self,
        role: str,
        backend: Backend,
        key: str,
        request: dict[str, Any],
        value: Any,
        text: str | None,
        tokens: tuple[int, int],
        start: float,
        attempts: int,
        errors: list[str],
        error: str | None,
    ) -> LLMResult:
        """Commit a finished request (answered or failed) to the ledger and return it as a result."""
        latency = time.monotonic() - start
        self.ledger.record(
            CallRecord(
                key=key,
                role=role,
                backend=backend.kind,
                model=backend.model,
                request=request,
                status="ok" if error is None else "failed",
                response=text,
                tokens_in=tokens[0],
                tokens_out=tokens[1],
                latency_s=latency,
                created_at=time.time(),
                attempts=attempts,
                errors=errors,
            )
        )
        return LLMResult(
            value=None if error else value,
            text=text,
            usage=Usage(*tokens),
            cached=False,
            attempts=attempts,
            latency_s=latency,
            key=key,
            error=error,
            errors=errors,
        )
