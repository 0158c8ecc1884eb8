"""Per-role figures from a run's ledger: calls, cache hits, tokens, failures, latency percentiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agenticrec.llm.config import LEDGER_FILE
from agenticrec.llm.errors import LLMError
from agenticrec.llm.ledger import Ledger


@dataclass(frozen=True)
class RoleStats:
    role: str
    calls: int  # requests sent and answered (paid for)
    failed: int  # requests that failed after all retries
    cache_hits: int  # requests answered from the ledger
    retries: int  # extra attempts spent on faults and invalid output
    tokens_in: int
    tokens_out: int
    latency_p50: float
    latency_p90: float
    latency_p99: float
    seconds: float  # latency summed over the answered calls


def ledger_stats(ledger: Ledger) -> list[RoleStats]:
    """Figures per role, sorted by role name."""
    records = ledger.records()
    hits = ledger.hit_counts()
    out = []
    for role in sorted({r.role for r in records} | set(hits)):
        mine = [r for r in records if r.role == role]
        ok = [r.latency_s for r in mine if r.status == "ok"]
        p50, p90, p99 = np.percentile(ok, [50, 90, 99]).tolist() if ok else (float("nan"),) * 3
        out.append(
            RoleStats(
                role=role,
                calls=len(ok),
                failed=sum(r.status == "failed" for r in mine),
                cache_hits=hits.get(role, 0),
                retries=sum(r.attempts - 1 for r in mine),
                tokens_in=sum(r.tokens_in for r in mine),
                tokens_out=sum(r.tokens_out for r in mine),
                latency_p50=p50,
                latency_p90=p90,
                latency_p99=p99,
                seconds=float(sum(ok)),
            )
        )
    return out


def run_stats(run_dir: str | Path, ledger_name: str = LEDGER_FILE) -> list[RoleStats]:
    """Figures of the ledger in `run_dir`; `LLMError` if the run has none."""
    path = Path(run_dir) / ledger_name
    if not path.is_file():
        raise LLMError(f"no LLM ledger at {path}")
    ledger = Ledger(path)
    try:
        return ledger_stats(ledger)
    finally:
        ledger.close()
