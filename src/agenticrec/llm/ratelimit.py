"""Optional requests-per-minute and tokens-per-minute limits (token buckets, asyncio)."""

from __future__ import annotations

import asyncio
import time


class _Bucket:
    """Holds up to `per_minute` units, refilled continuously; the level may go negative after a debit."""

    def __init__(self, per_minute: float):
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.level = per_minute
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, amount: float) -> float:
        self._refill()
        need = min(amount, self.capacity) - self.level
        return max(0.0, need / self.rate)

    def take(self, amount: float) -> None:
        self._refill()
        self.level -= amount


class RateLimiter:
    """Waits until a request (with its estimated tokens) fits under both limits; None means unlimited."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None):
        self._requests = _Bucket(requests_per_minute) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute) if tokens_per_minute else None
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self._requests is not None or self._tokens is not None

    async def acquire(self, est_tokens: int) -> None:
        """Block until one request of about `est_tokens` tokens may start, then debit it."""
        if not self.active:
            return
        async with self._lock:  # first come, first served
            while True:
                wait = max(
                    self._requests.wait_time(1) if self._requests else 0.0,
                    self._tokens.wait_time(est_tokens) if self._tokens else 0.0,
                )
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            if self._requests:
                self._requests.take(1)
            if self._tokens:
                self._tokens.take(est_tokens)

    def settle(self, est_tokens: int, actual_tokens: int) -> None:
        """Correct the token debit once the real usage is known."""
        if self._tokens:
            self._tokens.take(actual_tokens - est_tokens)
