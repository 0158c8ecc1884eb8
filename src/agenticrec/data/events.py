"""Served events as training data: the table the server's event store writes (``agenticrec serve``), and how its
positive events join a dataset's interaction histories for the next training run."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from agenticrec.data.dataset import MIN_SEQUENCE_LENGTH, Dataset
from agenticrec.errors import DataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
log = logging.getLogger(__name__)
INTERACTIONS = ("view", "click", "cart", "purchase", "like")  # event types that are interactions; not "dislike"


def read_interactions(path: Path) -> list[tuple[str, str, str, float]]:
    """(user, item, type, unix seconds) of every interaction event in an event store, oldest first."""
    if not Path(path).is_file():
        raise DataError(f"no event store at {path} (a served run writes RUN/events.sqlite)")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            marks = ",".join("?" * len(INTERACTIONS))
            rows = db.execute(
                f"SELECT user_id, item_id, type, timestamp FROM events WHERE type IN ({marks}) ORDER BY id",
                INTERACTIONS,
            ).fetchall()
    except sqlite3.DatabaseError as err:
        raise DataError(f"{path} is not an agenticrec event store ({err})") from None
    events = [(user, item, kind, datetime.fromisoformat(stamp).timestamp()) for user, item, kind, stamp in rows]
    return sorted(events, key=lambda event: event[3])  # by instant, whatever offset each timestamp was written in


def with_events(dataset: Dataset, path: Path) -> Dataset:
    """``dataset`` with the store's interaction events appended to their users' histories in time order (new users
    after the known ones, those with too few interactions to split left out with a warning); where the dataset has
    timestamps, each history is kept in time order."""
    events = read_interactions(path)
    unknown = sorted({item for _, item, _, _ in events} - set(dataset.index_of))
    if unknown:
        raise DataError(f"{path}: {len(unknown)} event items are not in {dataset.name}, e.g. {', '.join(unknown[:5])}")
    position = {user: u for u, user in enumerate(dataset.user_ids)}
    user_ids = list(dataset.user_ids)
    sequences = [list(s) for s in dataset.sequences]
    times = [list(t) for t in dataset.timestamps] if dataset.timestamps is not None else None
    kinds = [list(b) for b in dataset.behaviours] if dataset.behaviours is not None else None
    for user, item, kind, stamp in events:
        if user not in position:
            position[user] = len(user_ids)
            user_ids.append(user)
            sequences.append([])
            times = None if times is None else [*times, []]
            kinds = None if kinds is None else [*kinds, []]
        u = position[user]
        sequences[u].append(dataset.index_of[item])
        if times is not None:
            times[u].append(stamp)
        if kinds is not None:
            kinds[u].append(kind)
    if times is not None:  # a served event may predate the newest logged one: restore time order
        orders = [np.argsort(np.asarray(t, dtype=float), kind="stable") for t in times]
        sequences = [[s[i] for i in o] for s, o in zip(sequences, orders)]
        kinds = None if kinds is None else [[k[i] for i in o] for k, o in zip(kinds, orders)]
        times = [[t[i] for i in o] for t, o in zip(times, orders)]
    known = len(dataset.user_ids)
    short = [u for u in range(known, len(user_ids)) if len(sequences[u]) < MIN_SEQUENCE_LENGTH]
    if short:  # the split needs train, validation and test items; their events wait for more
        log.warning("%s: %d new users with fewer than %d interactions are left out of training, e.g. %s",
                    path, len(short), MIN_SEQUENCE_LENGTH, user_ids[short[0]])  # fmt: skip
        left_out = set(short)
        keep = [u for u in range(len(user_ids)) if u not in left_out]
        user_ids, sequences = [user_ids[u] for u in keep], [sequences[u] for u in keep]
        times = None if times is None else [times[u] for u in keep]
        kinds = None if kinds is None else [kinds[u] for u in keep]
    return replace(
        dataset,
        user_ids=user_ids,
        sequences=[np.asarray(s, dtype=np.int64) for s in sequences],
        timestamps=None if times is None else [np.asarray(t, dtype=float) for t in times],
        behaviours=None if kinds is None else [np.asarray(k, dtype=object) for k in kinds],
    )
