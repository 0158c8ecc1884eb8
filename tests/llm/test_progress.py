"""The batch progress bar: done/total, calls/s, tokens, cached, failures, ETA."""

from __future__ import annotations

from agenticrec.llm.calls import LLMResult, Usage
from agenticrec.llm.progress import BatchProgress


def _result(cached: bool = False, error: str | None = None) -> LLMResult:
    return LLMResult(
        value=None if error else "x",
        text="x",
        usage=Usage(100, 20),
        cached=cached,
        attempts=1,
        latency_s=0.1,
        key="k",
        error=error,
    )


def test_progress_counts_and_shows_the_figures(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    bar = BatchProgress("annotator", total=5, enabled=True)
    bar.add(_result(cached=True), copies=2)
    bar.add(_result())
    bar.add(_result(error="HTTP 503"))
    bar.close()
    assert (bar.cached, bar.calls, bar.tokens, bar.failed) == (2, 2, 240, 1)
    shown = capsys.readouterr().out
    for text in ("LLM annotator", "4/5", "calls/s", "240 tok", "2 cached", "1 failed", "ETA"):
        assert text in shown, text


def test_disabled_progress_prints_nothing(capsys):
    bar = BatchProgress("judge", total=1, enabled=False)
    bar.add(_result())
    bar.close()
    assert bar.calls == 1 and capsys.readouterr().out == ""
