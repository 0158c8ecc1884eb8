"""Serving under load, faults and fuzzing, on loopback only (`agenticrec serve` in a subprocess).

1. Trains (or reuses) the served runs in ``--runs``: SASRec-CE and generative retrieval on MovieLens-100k with the
   quickstart's settings, the generative run on the descriptor IDs of ``--tagger-run``. Latency does not depend on
   how long a model trained, so ``--epochs`` is short by default.
2. Latency: an open-loop load of GET /v1/users/{u}/recommendations?k=10 (seeded random users) at each rate for
   ``--seconds`` after 2 s of uncounted warm-up; each latency counts from the request's scheduled start, so a
   server that falls behind is charged for the queue (no coordinated omission). Throughput: answered requests
   per second of the counted window.
3. Faults: writers post events (unique idempotency keys) while the server is SIGKILLed and restarted ``--kills``
   times; afterwards every acknowledged event must be in the SQLite store.
4. Fuzzing: Schemathesis generates requests for every operation of the OpenAPI schema against the live server;
   server errors (5xx) are counted.

Writes benchmarks/results/serve.json and the "serve" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np

from common import command, save, update_section

KEY = "benchmark-key-0123456789"
SERVED = ("sasrec-ce", "generative-descriptors")  # of the quickstart's runs, with their settings


def train_runs(runs: Path, tagger_run: Path, epochs: int) -> None:
    from agenticrec.pipeline import load_config, train_and_evaluate
    from agenticrec.quickstart import DATA, RUNS

    for name in SERVED:
        settings = RUNS[name]
        if (runs / name / "metrics.json").is_file():
            continue
        overrides = [*DATA, *settings, f"semantic_ids.tagger_run={tagger_run}", f"train.epochs={epochs}"]
        train_and_evaluate(load_config(None, [*overrides, f"run_dir={runs / name}"]))


class Server:
    """`agenticrec serve` in a subprocess on a free loopback port."""

    def __init__(self, runs: Path, events: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "agenticrec", "serve", str(runs), "--port", str(self.port)]
        self.args += ["--events", str(events)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "AGENTICREC_API_KEYS": KEY}
        self.process = subprocess.Popen(self.args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 120 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


async def open_loop(
    url: str, model: str, rate: int, seconds: float, users: list[str], seed: int, warmup: float = 2.0
) -> dict[str, Any]:
    """``rate`` requests/s for ``warmup`` + ``seconds``; requests of the warm-up are sent but not counted."""
    rng = np.random.default_rng(seed)
    skipped = int(rate * warmup)
    total = skipped + int(rate * seconds)
    latencies: list[float] = []
    answered_at: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            user = users[int(rng.integers(len(users)))]
            try:
                async with client.get(f"/v1/users/{user}/recommendations", params={"k": 10, "model": model}) as r:
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if i < skipped:
                return
            if ok:
                latencies.append(time.perf_counter() - scheduled)
                answered_at.append(time.perf_counter())
            else:
                errors += 1

        await asyncio.gather(*(one(i) for i in range(total)))
    window = max(answered_at, default=start) - (start + warmup)
    ms = np.asarray(latencies) * 1000
    return {
        "model": model,
        "rate": rate,
        "requests": total - skipped,
        "errors": errors,
        "throughput_rps": len(latencies) / max(window, seconds),
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None,
    }


async def writers(url: str, stop: asyncio.Event, acked: set[str], attempted: list[int], workers: int = 4) -> None:
    async def writer(w: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=5, headers={"X-API-Key": KEY}) as client:
            n = 0
            while not stop.is_set():
                key = f"w{w}-{n}"
                n += 1
                attempted[0] += 1
                body = {"user_id": f"u{w}", "item_id": "1", "type": "click", "idempotency_key": key}
                try:
                    response = await client.post("/v1/events", json=body)
                    if response.status_code in (200, 201):
                        acked.add(key)
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)  # the server is down: keep trying until it is back

    await asyncio.gather(*(writer(w) for w in range(workers)))


def kill_test(server: Server, events: Path, kills: int) -> dict[str, Any]:
    acked: set[str] = set()
    attempted = [0]
    server.start()

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(writers(server.url, stop, acked, attempted))
        for _ in range(kills):
            await asyncio.sleep(3)
            server.kill()
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.start)
        await asyncio.sleep(2)
        stop.set()
        await task

    asyncio.run(scenario())
    server.stop()
    with sqlite3.connect(events) as db:
        stored = {row[0] for row in db.execute("SELECT idempotency_key FROM events")}
    return {
        "kills": kills,
        "attempted": attempted[0],
        "acknowledged": len(acked),
        "stored": len(stored),
        "acked_events_lost": len(acked - stored),
    }


def fuzz(url: str, examples: int) -> dict[str, Any]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    errors: list[str] = []
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: Any) -> None:
            response = case.call(base_url=url, headers={"X-API-Key": KEY})
            calls[0] += 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        call()
    return {
        "operations": len(list(schema.get_all_operations())),
        "calls": calls[0],
        "server_errors": len(errors),
        "examples": errors[:10],
    }


def markdown(result: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['model']} | {r['rate']} | {r['throughput_rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{r['errors']} |"
        for r in result["load"]
    )
    faults, fuzzed = result["faults"], result["fuzz"]
    return f"""## Serving: latency under load, events under SIGKILL, fuzzing

Command: `{command()}` ({result["date"]}, {result["machine"]}). Loopback only; the load generator shares the
2 cores with the server. Served: MovieLens-100k, SASRec-CE and generative retrieval (descriptor IDs, beam 20), top-10
for seeded random users, open loop, {result["seconds"]} s per rate; latency from each request's scheduled start.

| model | requests/s offered | answered/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|---|
{rows}

Events under faults: the server was SIGKILLed and restarted {faults["kills"]} times while 4 writers posted;
{faults["acknowledged"]} events acknowledged, {faults["stored"]} stored, **{faults["acked_events_lost"]} acknowledged
events lost**.

Schemathesis: {fuzzed["calls"]} generated requests over {fuzzed["operations"]} operations, **{fuzzed["server_errors"]}
server errors**.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("runs/serve-bench"))
    parser.add_argument("--tagger-run", type=Path, default=Path("runs/quickstart/tags"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--generative-rates", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--fuzz-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from datetime import UTC, datetime

    from agenticrec.environment import machine
    from agenticrec.pipeline import load_config
    from agenticrec.quickstart import DATA

    train_runs(args.runs, args.tagger_run, args.epochs)
    events = args.runs / "bench-events.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{events}{suffix}").unlink(missing_ok=True)
    server = Server(args.runs, events)
    server.start()
    try:
        users = load_config(None, DATA).data.load().user_ids
        load = []
        for model, rates in (("sasrec-ce", args.rates), ("generative-descriptors", args.generative_rates)):
            for rate in rates:
                load.append(asyncio.run(open_loop(server.url, model, rate, args.seconds, users, args.seed)))
                print(json.dumps(load[-1]))
        fuzzed = fuzz(server.url, args.fuzz_examples)
        print(json.dumps(fuzzed))
    finally:
        server.stop()
    faults = kill_test(Server(args.runs, events), events, args.kills)
    print(json.dumps(faults))
    by = {(r["model"], r["rate"]): r for r in load}
    summary: dict[str, Any] = {
        "sasrec_p99_ms_100rps": by.get(("sasrec-ce", 100), {}).get("p99_ms"),
        "generative_p99_ms_20rps": by.get(("generative-descriptors", 20), {}).get("p99_ms"),
        "schemathesis_server_errors": fuzzed["server_errors"],
        "acked_events_lost": faults["acked_events_lost"],
    }
    for r in load:
        short = "sasrec" if r["model"] == "sasrec-ce" else "generative"
        summary[f"{short}_p50_ms_{r['rate']}rps"] = r["p50_ms"]
        summary[f"{short}_throughput_{r['rate']}rps"] = r["throughput_rps"]
    protocol = {
        "data": "MovieLens-100k (recbole copy), runs trained with the quickstart settings for --epochs epochs",
        "request": "GET /v1/users/{u}/recommendations?k=10, u uniform over the 943 users (seeded), history excluded",
        "load": "open loop (aiohttp), latency from the scheduled start; loopback; client and server share 2 cores",
        "faults": f"{args.kills} SIGKILL + restart while 4 writers post unique keys",
        "fuzz": f"schemathesis {args.fuzz_examples} examples per operation, with a valid API key",
    }
    result = {"load": load, "faults": faults, "fuzz": fuzzed, "seconds": args.seconds}
    save("serve", result, protocol, summary=summary)
    result |= {"date": datetime.now(UTC).date().isoformat(), "machine": machine()}
    update_section("serve", markdown(result))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
