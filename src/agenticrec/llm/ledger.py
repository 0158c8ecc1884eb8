"""The call ledger: an SQLite (WAL) file in the run directory that caches and accounts for every call.

Every finished call is committed the moment it finishes, so killing the process loses no completed call
and a re-run answers it from here instead of calling again. Failed calls are recorded too (status
`failed`) and are tried again on the next run. Cache hits are logged in their own table, so the stats
can tell paid calls from reused ones.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agenticrec.llm.calls import Message
from agenticrec.llm.config import SamplingParams

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    response TEXT,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    errors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
    role TEXT NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
"""


def request_key(
    backend: str, model: str, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
) -> str:
    """Stable hash of everything that determines an answer."""
    payload = {
        "backend": backend,
        "model": model,
        "messages": messages,
        "schema": schema,
        "params": params.model_dump(),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def score_key(backend: str, model: str, messages: list[Message], options: list[str]) -> str:
    """Stable hash of a scoring request: the messages and the options scored as their answer."""
    payload = {"backend": backend, "model": model, "messages": messages, "options": options, "mode": "score"}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CallRecord:
    """One row of the `calls` table."""

    key: str
    role: str
    backend: str
    model: str
    request: dict[str, Any]
    status: str
    response: str | None
    tokens_in: int
    tokens_out: int
    latency_s: float
    created_at: float
    attempts: int
    errors: list[str]


class Ledger:
    """SQLite ledger; `path=None` keeps it in memory (nothing persists)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened on first use: a run that fails its checks before any call leaves no file."""
        if self._conn is None:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(":memory:" if self.path is None else str(self.path), check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives the process being killed (not an OS crash), at a fraction of FULL's cost.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.executescript(_SCHEMA)
            db.commit()
            self._conn = db
        return self._conn

    def completed(self, keys: Iterable[str]) -> dict[str, CallRecord]:
        """The successful calls among `keys`."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, CallRecord] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT * FROM calls WHERE status = 'ok' AND key IN ({marks})", chunk
                ).fetchall()
            for row in rows:
                rec = _record(row)
                found[rec.key] = rec
        return found

    def record(self, rec: CallRecord) -> None:
        """Store a finished call (success or final failure) and commit at once."""
        row = (
            rec.key,
            rec.role,
            rec.backend,
            rec.model,
            json.dumps(rec.request, ensure_ascii=False),
            rec.status,
            rec.response,
            rec.tokens_in,
            rec.tokens_out,
            rec.latency_s,
            rec.created_at,
            rec.attempts,
            json.dumps(rec.errors, ensure_ascii=False),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
            self._db.commit()

    def record_hits(self, role: str, keys: list[str]) -> None:
        """Count cache hits of `role`."""
        if not keys:
            return
        now = time.time()
        with self._lock:
            self._db.executemany("INSERT INTO hits VALUES (?,?,?)", [(role, k, now) for k in keys])
            self._db.commit()

    def records(self) -> list[CallRecord]:
        """Every call, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM calls ORDER BY created_at").fetchall()
        return [_record(r) for r in rows]

    def hit_counts(self) -> dict[str, int]:
        """Cache hits per role."""
        with self._lock:
            return dict(self._db.execute("SELECT role, COUNT(*) FROM hits GROUP BY role").fetchall())

    def merge(self, shards: Iterable[Path]) -> None:
        """Move the calls and hits of shard ledgers (written by Ray actors) into this one, then delete the shard
        files; a shard's successful call replaces a failed one under the same key, never the reverse."""
        for shard in shards:
            with self._lock:
                self._db.execute("ATTACH DATABASE ? AS shard", (str(shard),))
                try:
                    self._db.execute("INSERT OR REPLACE INTO calls SELECT * FROM shard.calls WHERE status = 'ok' OR "
                                     "key NOT IN (SELECT key FROM calls WHERE status = 'ok')")  # fmt: skip
                    self._db.execute("INSERT INTO hits SELECT * FROM shard.hits")
                    self._db.commit()
                finally:
                    self._db.execute("DETACH DATABASE shard")
            for path in (shard, Path(f"{shard}-wal"), Path(f"{shard}-shm")):
                path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _record(row: tuple) -> CallRecord:
    fields = list(row)
    fields[4] = json.loads(fields[4])
    fields[12] = json.loads(fields[12])
    return CallRecord(*fields)
