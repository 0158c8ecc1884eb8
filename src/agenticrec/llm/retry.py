"""Backoff for transient faults: exponential, jittered, bounded, and never shorter than Retry-After."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from agenticrec.llm.config import RetryConfig


def backoff_delay(cfg: RetryConfig, retry: int, retry_after: float | None, rng: random.Random) -> float:
    """Pause before retry number `retry` (1 = first retry).

    Equal jitter: half of the exponential step is fixed, half is random, which spreads retries of many
    concurrent calls apart. A server's Retry-After is honoured even when it exceeds `max_delay_s`.
    """
    step = min(cfg.max_delay_s, cfg.base_delay_s * 2 ** (retry - 1))
    delay = step / 2 + rng.uniform(0, step / 2)
    return max(delay, retry_after or 0.0)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked for by `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if present."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
