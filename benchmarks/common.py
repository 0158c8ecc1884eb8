"""Shared bits of the benchmark scripts: results JSON and BENCHMARKS.md sections (``machine`` is the package's)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agenticrec.environment import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"


def command() -> str:
    return " ".join([".venv/bin/python", *sys.argv])


def run_record(result: dict[str, Any]) -> dict[str, Any]:
    """What every benchmark keeps of one ``train_and_evaluate`` result: both test protocols (``test`` is the run's
    own), training summary, timing, and the command that produced it."""
    other = "test_history_not_masked" if "test_history_not_masked" in result else "test_history_masked"
    keys = ("machine", "finished", "test", other, "train", "wall_seconds")
    return {"command": command(), **{key: result[key] for key in keys}}


def train_or_reuse(
    run_dir: Path, overrides: list[str], reuse: bool, data: str | None = None, model: str | None = None
) -> dict[str, Any]:
    """Train and evaluate one run into ``run_dir``, or with ``reuse`` read back a finished one (its metrics.json);
    the ``run_record`` of it, with its run directory."""
    from agenticrec.pipeline import load_config, train_and_evaluate

    metrics = run_dir / "metrics.json"
    if reuse and metrics.is_file():
        result = json.loads(metrics.read_text())
    else:
        result = train_and_evaluate(load_config(None, [*overrides, f"run_dir={run_dir}"], data=data, model=model))
    return {"run_dir": str(run_dir), **run_record(result)}


def summary_key(*parts: object) -> str:
    """A flat summary name: ``amazon-beauty, sasrec-ce, ndcg@10`` -> ``amazon_beauty_sasrec_ce_ndcg_10``."""
    words = (re.sub(r"[^0-9a-z]+", "_", str(part).lower()).strip("_") for part in parts)
    return "_".join(word for word in words if word)


def named_values(metrics: list[dict[str, Any]]) -> dict[str, float]:
    """The summary of a metrics list of ``{"name", "value", "unit"}`` records."""
    return {m["name"]: m["value"] for m in metrics}


def save(name: str, metrics: object, protocol: dict[str, object], *, summary: dict[str, Any], **extra: object) -> Path:
    """Write benchmarks/results/<name>.json, with `summary` (flat named numbers; None left out) on top."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "summary": {key: value for key, value in summary.items() if value is not None},
        "command": command(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "protocol": protocol,
        "metrics": metrics,
        **extra,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def update_section(name: str, markdown: str) -> None:
    """Replace (or append) the BENCHMARKS.md section delimited by ``<!-- name:start -->`` / ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)


def run_parallel(run: Callable[..., dict[str, Any]], jobs: Sequence[tuple], workers: int) -> list[dict[str, Any]]:
    """``run(*job, threads)`` for every job, ``workers`` at a time in fresh processes that share the cores evenly."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    if workers == 1 or not jobs:
        return [run(*job, threads) for job in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run, *job, threads) for job in jobs]
        return [future.result() for future in futures]


def with_earlier_runs(name: str, runs: list[dict[str, Any]], key: tuple[str, ...], fresh: bool) -> list[dict[str, Any]]:
    """``runs`` plus the runs of benchmarks/results/<name>.json whose ``key`` fields they do not repeat."""
    previous = RESULTS / f"{name}.json"
    if fresh or not previous.exists():
        return runs
    done = {tuple(r[k] for k in key) for r in runs}
    return [r for r in json.loads(previous.read_text())["runs"] if tuple(r[k] for k in key) not in done] + runs
