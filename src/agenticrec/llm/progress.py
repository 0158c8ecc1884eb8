"""Progress bar of a batch: done/total, calls/s, tokens, failures, ETA."""

from __future__ import annotations

import time

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from agenticrec.llm.calls import LLMResult


class BatchProgress:
    """Thread-safe progress display; does nothing when `enabled` is false."""

    def __init__(self, role: str, total: int, enabled: bool):
        self.calls = self.tokens = self.failed = self.cached = 0
        self._start = time.monotonic()
        self._progress: Progress | None = None
        if not enabled:
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f} calls/s"),
            TextColumn("{task.fields[tokens]:,} tok"),
            TextColumn("{task.fields[cached]} cached"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self._task = self._progress.add_task(f"LLM {role}", total=total, rate=0.0, tokens=0, cached=0, failed=0)
        self._progress.start()

    def add(self, result: LLMResult, copies: int = 1) -> None:
        """Count `copies` requests answered by `result`."""
        if result.cached:
            self.cached += copies
        else:
            self.calls += 1
            self.tokens += result.usage.tokens_in + result.usage.tokens_out
        if not result.ok:
            self.failed += copies
        if self._progress is not None:
            rate = self.calls / max(time.monotonic() - self._start, 1e-9)
            self._progress.update(
                self._task, advance=copies, rate=rate, tokens=self.tokens, cached=self.cached, failed=self.failed
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
