"""The event store: feedback and interactions posted to the server, appended to SQLite in WAL mode for the next
training run. An event is acknowledged only after its transaction has committed with ``synchronous=FULL``, so a
killed server loses no acknowledged event; the idempotency key makes a retried post store nothing twice."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from agenticrec.data.events import SCHEMA


@dataclass(frozen=True)
class Event:
    idempotency_key: str
    user_id: str
    item_id: str
    type: str
    timestamp: str  # ISO 8601


class IdempotencyConflict(Exception):
    """The key was used before for another user, item or type (a retry may differ in its server-set timestamp)."""


class EventStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def append(self, event: Event) -> tuple[int, bool]:
        """Store ``event`` and return (its id, whether it is new); a repeated key returns the stored event's id."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (idempotency_key, user_id, item_id, type, timestamp) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                (event.idempotency_key, event.user_id, event.item_id, event.type, event.timestamp),
            )
            created = cursor.rowcount == 1
            row = self._db.execute(
                "SELECT id, user_id, item_id, type, timestamp FROM events WHERE idempotency_key = ?",
                (event.idempotency_key,),
            ).fetchone()
        if not created and tuple(row[1:4]) != (event.user_id, event.item_id, event.type):
            raise IdempotencyConflict(event.idempotency_key)
        return int(row[0]), created

    def events(self) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT idempotency_key, user_id, item_id, type, timestamp FROM events ORDER BY id"
            ).fetchall()
        return [Event(*row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
