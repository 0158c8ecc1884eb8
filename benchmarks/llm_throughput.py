"""Throughput of the LLM client against a local OpenAI-compatible server with a fixed answer latency.

The server (agenticrec.llm.fake_server) runs in its own process and answers every chat request after
LATENCY seconds. The ideal rate at concurrency c is c / LATENCY calls/s; we report the measured rate as a
fraction of it, and the client's CPU time per call (all client threads: event loop, openai/httpx,
validation, ledger commit). Every call is a cache miss (fresh ledger per level) with a pydantic output
model, i.e. the full path a stage's batch takes.

    .venv/bin/python benchmarks/llm_throughput.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from _llm_bench import save
from agenticrec.llm import LLMClient, LLMConfig

LATENCY_S = 0.2
LEVELS = (1, 8, 64, 256)
WAVES = 30  # requests per level = WAVES * concurrency (at least 20)


class Echo(BaseModel):
    echo: str
    label: Literal["even", "odd"]


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agenticrec.llm.fake_server", "--latency", str(LATENCY_S)],
        stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().split()
    assert line and line[0] == "ready", "fake server did not start"
    return proc, line[1]


def run_level(url: str, concurrency: int) -> dict[str, float]:
    cfg = LLMConfig.model_validate({
        "backends": {"local": {"kind": "openai", "base_url": url, "model": "fake-model",
                               "max_concurrency": concurrency, "timeout_s": 30}},
        "default": {"backend": "local"},
        "progress": False,
    })
    n = max(20, WAVES * concurrency)
    requests = [f"item {concurrency}-{i}: a short product description" for i in range(n)]
    with tempfile.TemporaryDirectory() as run_dir, LLMClient(cfg, run_dir) as client:
        client.batch("bench", ["warm-up"], Echo)  # starts the backend (model-list check), not timed
        cpu0, t0 = time.process_time(), time.perf_counter()
        results = client.batch("bench", requests, Echo, concurrency=concurrency)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert all(r.ok for r in results)
    rate = n / wall
    return {
        "concurrency": concurrency,
        "requests": n,
        "wall_s": round(wall, 3),
        "calls_per_s": round(rate, 1),
        "ideal_calls_per_s": concurrency / LATENCY_S,
        "fraction_of_ideal": round(rate / (concurrency / LATENCY_S), 3),
        "client_cpu_ms_per_call": round(1000 * cpu / n, 3),
    }


def main() -> None:
    proc, url = start_server()
    try:
        rows = [run_level(url, c) for c in LEVELS]
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"{'conc':>5} {'reqs':>6} {'calls/s':>9} {'ideal':>7} {'fraction':>9} {'cpu ms/call':>12}")
    for r in rows:
        print(f"{r['concurrency']:>5} {r['requests']:>6} {r['calls_per_s']:>9} {r['ideal_calls_per_s']:>7.0f} "
              f"{r['fraction_of_ideal']:>9} {r['client_cpu_ms_per_call']:>12}")
    metrics = []
    for r in rows:
        c = r["concurrency"]
        metrics += [
            {"name": f"fraction_of_ideal_c{c}", "value": r["fraction_of_ideal"], "unit": "ratio",
             **({"target": ">= 0.9"} if c == 64 else {})},
            {"name": f"calls_per_s_c{c}", "value": r["calls_per_s"], "unit": "calls/s"},
            {"name": f"client_cpu_ms_per_call_c{c}", "value": r["client_cpu_ms_per_call"], "unit": "ms"},
        ]
    path = save("llm_throughput", metrics, {
        "server": "agenticrec.llm.fake_server in a separate process on 127.0.0.1, fixed latency per answer",
        "latency_s": LATENCY_S,
        "levels": rows,
        "client": "LLMClient.batch, openai backend (AsyncOpenAI, max_retries=0), pydantic output model, "
                  "SQLite ledger commit per call, progress bar off, fresh ledger per level (all cache misses)",
        "requests_per_level": f"max(20, {WAVES} x concurrency)",
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
