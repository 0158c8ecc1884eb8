"""Behaviour histories and RecGPT's two-level compression of them.

Item level: an item becomes a short form (its name, brand and leaf category by default). Sequence level, as in
the RecGPT report: every event falls in a period relative to the user's last event (days within a month, months
within a year, years beyond); step 1 groups items by (period, behaviour); step 2 reverse-aggregates by item, so an
item that recurs across periods appears once with its period-behaviour list, and items sharing that list share a
line: ``2 days ago (loved), 3 months ago (liked) | [1] Heat, [4] Casino``. Without timestamps the periods are
position buckets (the last 5 events, events 6-20, older).

Every item carries a reference number ``[n]`` local to the user, which interests cite as evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from agenticrec.data import Dataset
from agenticrec.intent.config import IntentConfig

DAY = 86_400.0


@dataclass(frozen=True)
class Event:
    item: int  # internal 1-based item index
    time: float | None  # unix seconds; None without timestamps
    behaviour: str


@dataclass(frozen=True)
class History:
    """One user's reliable events up to a cut-off, oldest first, and the reference number of each item."""

    user: str
    events: list[Event]

    @property
    def refs(self) -> dict[int, int]:
        """Item index -> its reference number, numbered from the most recent event backwards."""
        numbers: dict[int, int] = {}
        for event in reversed(self.events):
            numbers.setdefault(event.item, len(numbers) + 1)
        return numbers

    @property
    def items(self) -> set[int]:
        return {e.item for e in self.events}


def behaviour_types(dataset: Dataset, user: int, end: int, config: IntentConfig) -> list[str]:
    """The behaviour type of each of the user's first ``end`` events, through the configured mapping."""
    if dataset.behaviours is None:
        return [config.default_behaviour] * end
    return [config.behaviours.get(str(v), config.default_behaviour) for v in dataset.behaviours[user][:end]]


def user_history(dataset: Dataset, user: int, end: int, config: IntentConfig) -> History:
    """User ``user``'s events before position ``end``, keeping only reliable behaviour types."""
    items = dataset.sequences[user][:end]
    times = dataset.timestamps[user][:end] if dataset.timestamps is not None else [None] * len(items)
    kinds = behaviour_types(dataset, user, end, config)
    keep = set(config.reliable) if config.reliable is not None else None
    events = [
        Event(int(item), None if t is None else float(t), kind)
        for item, t, kind in zip(items, times, kinds)
        if keep is None or kind in keep
    ]
    return History(dataset.user_ids[user], events)


def period_label(age_seconds: float) -> str:
    """Days within a month, months within a year, years beyond."""
    days = int(age_seconds // DAY)
    if days < 30:
        return "today" if days == 0 else f"{days} day{'s' * (days > 1)} ago"
    if days < 365:
        months = days // 30
        return f"{months} month{'s' * (months > 1)} ago"
    years = days // 365
    return f"{years} year{'s' * (years > 1)} ago"


def bucket_label(position_from_end: int, buckets: list[int]) -> str:
    """Position buckets for histories without timestamps: ``last 5``, ``6-20``, ``older``."""
    lower = 1
    for upper in buckets:
        if position_from_end <= upper:
            return f"last {upper}" if lower == 1 else f"{lower}-{upper} back"
        lower = upper + 1
    return "older"


def periods(history: History, buckets: list[int]) -> list[str]:
    """The period of each event, relative to the history's last event."""
    events = history.events
    if not events:
        return []
    if events[-1].time is None:
        return [bucket_label(len(events) - i, buckets) for i in range(len(events))]
    last = events[-1].time
    return [period_label(last - e.time if e.time is not None else 0.0) for e in events]


def compress(history: History, names: dict[int, str], buckets: list[int]) -> list[str]:
    """The compressed history as lines, most recent first (step 1: group by period and behaviour; step 2:
    reverse-aggregate by item, so each item appears once with its period-behaviour list)."""
    step1: dict[tuple[str, str], list[int]] = defaultdict(list)  # (period, behaviour) -> items, most recent first
    order: list[str] = []  # periods, most recent first
    for event, period in zip(reversed(history.events), reversed(periods(history, buckets))):
        if period not in order:
            order.append(period)
        if event.item not in step1[(period, event.behaviour)]:
            step1[(period, event.behaviour)].append(event.item)
    signature: dict[int, list[tuple[str, str]]] = defaultdict(list)  # item -> its (period, behaviour) pairs
    for (period, behaviour), items in sorted(step1.items(), key=lambda kv: order.index(kv[0][0])):
        for item in items:
            signature[item].append((period, behaviour))
    lines: dict[str, list[int]] = {}  # rendered signature -> items, in first-seen (most recent) order
    refs = history.refs
    for item in sorted(signature, key=lambda i: refs[i]):
        lines.setdefault(_render_signature(signature[item]), []).append(item)
    return [f"{key} | " + ", ".join(f"[{refs[i]}] {names[i]}" for i in items) for key, items in lines.items()]


def _render_signature(pairs: list[tuple[str, str]]) -> str:
    behaviours: dict[str, list[str]] = {}
    for period, behaviour in pairs:
        kinds = behaviours.setdefault(period, [])
        if behaviour not in kinds:
            kinds.append(behaviour)
    return ", ".join(f"{period} ({', '.join(kinds)})" for period, kinds in behaviours.items())


def uncompressed(history: History, texts: dict[int, str]) -> list[str]:
    """The history as logged: one line per event, most recent first, with the date and the item's full text."""
    refs = history.refs
    lines = []
    for event in reversed(history.events):
        when = "" if event.time is None else np.datetime_as_string(np.datetime64(int(event.time), "s"), unit="D") + " "
        lines.append(f"{when}{event.behaviour}: [{refs[event.item]}] {texts[event.item]}")
    return lines


def fit_lines(lines: list[str], counts: list[int], budget: int) -> list[str]:
    """The most recent lines whose tokens (``counts``, one per line plus a newline each) fit ``budget``."""
    kept, used = [], 0
    for line, count in zip(lines, counts):
        if used + count + 1 > budget:
            break
        kept.append(line)
        used += count + 1
    return kept
