"""Batches sharded over Ray actors (``llm.executor.kind: ray``): every LLM batch stage scales out unchanged.

The driver answers what its ledger already holds, and sends the rest to ``executor.actors`` actors, each request to
the shard of a stable hash of its ledger key (the same request goes to the same shard on every rerun). Each actor
owns a client (its own engine, or its own connections to a served endpoint) and writes every finished call at once
to its own shard ledger (``llm.sqlite-shard-<k>``) beside the run's ledger: many writers, no shared file. Ray
restarts a killed actor and retries its task; the new actor finds the calls its predecessor finished in the shard
ledger, so no finished call is paid twice. After each batch the driver merges the shard ledgers into the run's
ledger; a driver killed mid-batch leaves them behind, and the next batch merges them before it looks anything up.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agenticrec.llm.calls import LLMResult, Request
from agenticrec.llm.config import LLMConfig
from agenticrec.llm.errors import LLMError
from agenticrec.llm.pool import LocalCalls
from agenticrec.llm.progress import BatchProgress


def shard_of(key: str, shards: int) -> int:
    """The shard of a ledger key: stable across runs, processes and machines."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % shards


def shard_ledger(ledger: str, shard: int | str) -> str:
    """A shard's ledger file name: the run's ledger name and the shard (kept with the ledger by ``--fresh``)."""
    return f"{ledger}-shard-{shard}"


def shard_ledgers(run_dir: Path | None, ledger: str) -> list[Path]:
    """The shard ledgers in ``run_dir`` (not their -wal and -shm files)."""
    if run_dir is None:
        return []
    return sorted(p for p in run_dir.glob(shard_ledger(ledger, "*")) if p.name.rsplit("-", 1)[-1].isdigit())


class ShardWorker:
    """A Ray actor: local calls on the run's LLM config, with its own shard ledger."""

    def __init__(self, config: LLMConfig, run_dir: str | None, shard: int):
        # copied, not validated again: the stages that registered the config's roles are not imported here
        local = config.model_copy(update={"progress": False, "ledger": shard_ledger(config.ledger, shard)})
        self.calls = LocalCalls(local, Path(run_dir) if run_dir is not None else None)

    def run(self, method: str, role: str, requests: list[Any], extra: dict[str, Any]) -> list[LLMResult]:
        results: list[LLMResult] = getattr(self.calls, method)(self.calls.config.resolve(role), requests, **extra)
        return results

    def close_ledger(self) -> None:
        """Let the driver merge and delete the shard ledger; the next batch reopens it."""
        self.calls.ledger.close()

    def shutdown(self) -> None:
        self.calls.close()


class RayBatches:
    """The driver's side: starts Ray and the actors on first use, dispatches shards, merges the shard ledgers."""

    def __init__(self, driver: LocalCalls):
        """``driver``: the driver's own calls, whose ledger the shard ledgers are merged into."""
        self.driver = driver
        self.config = driver.config.executor
        self.actors: list[Any] = []
        self._ray: Any = None
        self._started_ray = False

    def start(self) -> None:
        if self.actors:
            return
        try:
            import ray
        except ImportError:
            raise LLMError(
                "llm.executor.kind=ray needs Ray: pip install 'agenticrec[ray]' (or set llm.executor.kind=local)"
            ) from None
        self._ray = ray
        if not ray.is_initialized():
            if self.config.address and (problem := unreachable(self.config.address)):
                raise LLMError(f"cannot reach Ray at llm.executor.address={self.config.address}: {problem}")
            try:
                if self.config.address:
                    ray.init(address=self.config.address, logging_level=logging.WARNING)
                else:
                    ray.init(num_cpus=self.config.actors, include_dashboard=False, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as err:
                where = self.config.address or "a local Ray"
                raise LLMError(f"cannot start or reach Ray at llm.executor.address={where}: {err}") from None
            self._started_ray = True
        worker = ray.remote(num_cpus=0, max_restarts=3, max_task_retries=3)(ShardWorker)
        config = self.driver.config
        run_dir = str(self.driver.run_dir) if self.driver.run_dir is not None else None
        self.actors = [worker.remote(config, run_dir, k) for k in range(self.config.actors)]

    def merge_shards(self) -> None:
        """Shard ledgers left by the actors (or by a killed driver) into the run's ledger."""
        for actor in self.actors:  # a dead actor holds no connection; its shard ledger is merged like any
            with contextlib.suppress(self._ray.exceptions.RayError):
                self._ray.get(actor.close_ledger.remote())
        self.driver.ledger.merge(shard_ledgers(self.driver.run_dir, self.driver.config.ledger))

    def run(
        self,
        method: str,
        role: str,
        requests: Sequence[Request],
        keys: list[str],
        cached: Callable[[], dict[str, LLMResult]],
        extra: Callable[[list[int]], dict[str, Any]],
        show: bool,
    ) -> list[LLMResult]:
        """Every request's result: from the run's ledger (``cached``, read after the merge), else from its shard's
        actor, ``executor.chunk`` requests per task. ``extra(indices)`` gives a task's other arguments."""
        self.merge_shards()  # a killed driver's shard ledgers first: what they hold is paid for
        found = cached()
        results: list[LLMResult | None] = [found.get(key) for key in keys]
        todo: dict[int, list[int]] = {}
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if results[i] is None and first.setdefault(key, i) == i:
                todo.setdefault(shard_of(key, self.config.actors), []).append(i)
        bar = BatchProgress(role, len(keys), show)
        for result in results:
            if result is not None:
                bar.add(result, 1)
        if todo:
            self.start()
            ray = self._ray
            pending: dict[Any, list[int]] = {}
            for shard, indices in todo.items():
                for start in range(0, len(indices), self.config.chunk):
                    chunk = indices[start : start + self.config.chunk]
                    task = self.actors[shard].run.remote(method, role, [requests[i] for i in chunk], extra(chunk))
                    pending[task] = chunk
            try:
                while pending:
                    [ready], _ = ray.wait(list(pending), num_returns=1)
                    chunk = pending.pop(ready)
                    for i, result in zip(chunk, ray.get(ready), strict=True):
                        results[i] = result
                        bar.add(result, 1)
            except ray.exceptions.RayError as err:
                for task in pending:
                    ray.cancel(task)
                raise LLMError(f"LLM role {role!r} on Ray: {_first_line(err)}") from None
            finally:
                bar.close()
                self.merge_shards()
        for i, key in enumerate(keys):  # duplicates of a request share its answer
            if results[i] is None:
                results[i] = results[first[key]]
        return results  # type: ignore[return-value]  # every slot is filled: each key was answered once

    def close(self) -> None:
        if self._ray is None:
            return
        if self.actors:
            try:
                self._ray.get([actor.shutdown.remote() for actor in self.actors])
                self.merge_shards()
            finally:
                for actor in self.actors:
                    self._ray.kill(actor)
                self.actors = []
        if self._started_ray:
            self._ray.shutdown()
        self._ray = None


def unreachable(address: str, timeout_s: float = 5.0) -> str | None:
    """Why a ``host:port`` or ``ray://host:port`` address takes no connection, or None (also for ``auto``, which
    Ray resolves itself): ray.init keeps retrying an address nobody listens on."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as err:
        return str(err)
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__
