"""Throughput of the LLM client against a local OpenAI-compatible server with a fixed answer latency.

The server (agenticrec.testing.fake_server) runs in its own process and answers every chat request after
LATENCY seconds. The ideal rate at concurrency c is c / LATENCY calls/s; we report the measured rate as a
fraction of it, and the client's CPU time per call (all client threads: event loop, openai client,
validation, ledger commit). Every call is a cache miss (fresh ledger per level) with a pydantic output
model, i.e. the full path a stage's batch takes. For reference, the same load is also sent with bare
aiohttp (no openai client, no validation, no ledger): the floor this machine and server allow.

    .venv/bin/python benchmarks/llm_throughput.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from typing import Literal

import aiohttp
from pydantic import BaseModel

from agenticrec.llm import LLMClient, LLMConfig
from common import named_values, save

LATENCY_S = 0.2
LEVELS = (1, 8, 64, 256)
WAVES = 30  # requests per level = WAVES * concurrency
REPEATS = 3  # runs per level; the run with the median fraction is reported, the range alongside


class Echo(BaseModel):
    echo: str
    label: Literal["even", "odd"]


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agenticrec.testing.fake_server", "--latency", str(LATENCY_S)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().split()
    assert line and line[0] == "ready", "fake server did not start"
    return proc, line[1]


def process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_for(concurrency: int) -> list[str]:
    return [f"item {concurrency}-{i}: a short product description" for i in range(WAVES * concurrency)]


def summary(concurrency: int, n: int, wall: float, cpu: float) -> dict[str, float]:
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


async def raw_level(url: str, concurrency: int) -> dict[str, float]:
    """The same load with bare aiohttp: what the transport alone achieves here."""
    requests = requests_for(concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * concurrency)) as session:

        async def one(text: str) -> str:
            body = {"model": "fake-model", "messages": [{"role": "user", "content": text}]}
            async with gate, session.post(f"{url}/chat/completions", json=body) as resp:
                return (await resp.json())["choices"][0]["message"]["content"]

        await one("warm-up")
        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(t) for t in requests))
        return summary(concurrency, len(requests), time.perf_counter() - t0, time.process_time() - cpu0)


def run_level(url: str, concurrency: int, server_pid: int) -> dict[str, float]:
    cfg = LLMConfig.model_validate(
        {
            "backends": {
                "local": {
                    "kind": "openai",
                    "base_url": url,
                    "model": "fake-model",
                    "max_concurrency": concurrency,
                    "timeout_s": 30,
                }
            },
            "default": {"backend": "local"},
            "progress": False,
        }
    )
    requests = requests_for(concurrency)
    with tempfile.TemporaryDirectory() as run_dir, LLMClient(cfg, run_dir) as client:
        client.batch("bench", ["warm-up"], Echo)  # starts the backend (model-list check), not timed
        server0, cpu0, t0 = process_cpu_s(server_pid), time.process_time(), time.perf_counter()
        results = client.batch("bench", requests, Echo, concurrency=concurrency)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        server_cpu = process_cpu_s(server_pid) - server0
    assert all(r.ok for r in results)
    return {
        **summary(concurrency, len(requests), wall, cpu),
        "server_cpu_ms_per_call": round(1000 * server_cpu / len(requests), 3),
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median run by fraction of ideal, with the fractions of all runs."""
    ranked = sorted(runs, key=lambda r: r["fraction_of_ideal"])
    return {**ranked[len(ranked) // 2], "fraction_of_ideal_runs": [r["fraction_of_ideal"] for r in runs]}


def main() -> None:
    proc, url = start_server()
    try:
        rows = [median_run([run_level(url, c, proc.pid) for _ in range(REPEATS)]) for c in LEVELS]
        raw = [median_run([asyncio.run(raw_level(url, c)) for _ in range(REPEATS)]) for c in LEVELS]
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{'conc':>5} {'reqs':>6} {'calls/s':>9} {'ideal':>7} {'fraction':>9} {'(runs)':>21} {'cpu ms/call':>12} "
        f"{'server ms/call':>15} {'raw aiohttp fraction':>21} {'raw cpu ms/call':>16}"
    )
    for r, b in zip(rows, raw, strict=True):
        runs = "/".join(f"{f:.3f}" for f in r["fraction_of_ideal_runs"])
        print(
            f"{r['concurrency']:>5} {r['requests']:>6} {r['calls_per_s']:>9} {r['ideal_calls_per_s']:>7.0f} "
            f"{r['fraction_of_ideal']:>9} {runs:>21} {r['client_cpu_ms_per_call']:>12} "
            f"{r['server_cpu_ms_per_call']:>15} {b['fraction_of_ideal']:>21} {b['client_cpu_ms_per_call']:>16}"
        )
    metrics = []
    for r, b in zip(rows, raw, strict=True):
        c = r["concurrency"]
        metrics += [
            {
                "name": f"fraction_of_ideal_c{c}",
                "value": r["fraction_of_ideal"],
                "unit": "ratio",
                "runs": r["fraction_of_ideal_runs"],
                **({"target": ">= 0.9"} if c == 64 else {}),
            },
            {"name": f"calls_per_s_c{c}", "value": r["calls_per_s"], "unit": "calls/s"},
            {"name": f"client_cpu_ms_per_call_c{c}", "value": r["client_cpu_ms_per_call"], "unit": "ms"},
            {"name": f"reference_raw_aiohttp_fraction_of_ideal_c{c}", "value": b["fraction_of_ideal"], "unit": "ratio"},
            {"name": f"reference_raw_aiohttp_cpu_ms_per_call_c{c}", "value": b["client_cpu_ms_per_call"], "unit": "ms"},
        ]
    path = save(
        "llm_throughput",
        metrics,
        {
            "server": "agenticrec.testing.fake_server in a separate process on 127.0.0.1, fixed latency per answer",
            "latency_s": LATENCY_S,
            "levels": rows,
            "reference_raw_aiohttp": raw,
            "client": "LLMClient.batch, openai backend (AsyncOpenAI over aiohttp, max_retries=0), pydantic output "
            "model, SQLite ledger commit per call, progress bar off, fresh ledger per level (all misses)",
            "requests_per_level": f"{WAVES} x concurrency",
            "repeats": f"{REPEATS} runs per level, the median run (by fraction of ideal) reported",
        },
        summary=named_values(metrics),
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
