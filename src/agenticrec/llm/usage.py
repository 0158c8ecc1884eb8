"""What one client's callers received, per role: requests, ledger hits, failures and tokens.

The ledger keeps every call of a run across sessions (`llm/stats.py` reads it); this counter covers one
client's lifetime, so a stage that opens its own client reports exactly what it asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from agenticrec.llm.calls import LLMResult


class UsageMeter:
    """Counts calls, ledger hits, failures and tokens of the results a client returned."""

    def __init__(self) -> None:
        self.roles: dict[str, dict[str, int]] = defaultdict(
            lambda: {"calls": 0, "cached": 0, "failed": 0, "tokens_in": 0, "tokens_out": 0}
        )

    def add(self, role: str, results: Iterable[LLMResult[Any]]) -> None:
        counts = self.roles[role]
        for r in results:
            counts["calls"] += 1
            counts["cached"] += int(r.cached)
            counts["failed"] += int(not r.ok)
            counts["tokens_in"] += r.usage.tokens_in
            counts["tokens_out"] += r.usage.tokens_out

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {role: dict(counts) for role, counts in sorted(self.roles.items())}

    def total(self, key: str) -> int:
        return sum(counts[key] for counts in self.roles.values())
