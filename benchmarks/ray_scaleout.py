"""LLM batches on Ray, measured against the fake server at a fixed latency (so throughput is bound by concurrency,
not by these 2 cores): calls/s for 1 and 2 actors against the ideal (actors x concurrency / latency), the driver's
peak memory at two catalogue sizes, and an actor and a driver killed mid-batch (calls paid twice, rows lost).

Every scenario runs its driver in a fresh process (its peak RSS is its own); the server runs in this process and
counts what it answered. Writes benchmarks/results/ray_scaleout.json and the "ray_scaleout" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from agenticrec.llm import LLMClient, LLMConfig, LLMResult
from agenticrec.testing.fake_server import FakeLLMServer
from common import command, save, update_section

OUTCOME = "outcome.json"
FLAT = 1.1  # the large catalogue's driver peak within this factor of the small one's counts as flat


def requests(items: int) -> Iterator[str]:
    """A synthetic catalogue, read lazily: one short request per item."""
    return (f"item {i}: synthetic product {i % 997} in category {i % 31}" for i in range(items))


def digest(results: Iterable[LLMResult]) -> tuple[int, str]:
    """How many results are ok, and a hash of their values in order, read as they stream by (nothing kept)."""
    sha, ok = hashlib.sha256(), 0
    for result in results:
        if result.ok:
            ok += 1
            sha.update(json.dumps(result.value, sort_keys=True).encode() + b"\n")
    return ok, sha.hexdigest()


def config(url: str, actors: int, concurrency: int, kind: str = "ray") -> LLMConfig:
    return LLMConfig.model_validate(
        {
            "backends": {"fake": {"kind": "openai", "base_url": url, "model": "fake-model", "timeout_s": 30.0,
                                  "max_concurrency": concurrency}},
            "default": {"backend": "fake"},
            "progress": False,
            "executor": {"kind": kind, "actors": actors, "chunk": 1000},
        }
    )  # fmt: skip


def driver(args: argparse.Namespace) -> None:
    """One scenario in this process: Ray and the actors started, then the batch timed; its outcome in the run dir."""
    import ray

    ray.init(num_cpus=args.actors, include_dashboard=False, logging_level="ERROR")
    with LLMClient(config(args.url, args.actors, args.concurrency), args.run_dir) as client:
        client.batch("annotator", [f"warm-up {k}" for k in range(args.actors * 4)])  # actors up, clients started
        if args.kill_actor_after:
            threading.Timer(args.kill_actor_after, lambda: ray.kill(client._ray.actors[0], no_restart=False)).start()
        started = time.perf_counter()
        ok, sha = digest(client.stream("annotator", requests(args.items)))
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outcome = {"seconds": seconds, "calls_per_s": args.items / seconds, "driver_peak_mb": peak,
               "ok_rows": ok, "values_sha": sha}  # fmt: skip
    (args.run_dir / OUTCOME).write_text(json.dumps(outcome))  # not stdout: Ray forwards the actors' logs there


def scenario(url: str, actors: int, items: int, concurrency: int, run_dir: Path, **kill: float) -> dict[str, Any]:
    """Run one driver process; ``kill_driver_after`` SIGKILLs it after that many seconds (then returns None)."""
    cmd = [sys.executable, __file__, "--driver", "--url", url, "--actors", str(actors), "--items", str(items),
           "--concurrency", str(concurrency), "--run-dir", str(run_dir)]  # fmt: skip
    if "kill_actor_after" in kill:
        cmd += ["--kill-actor-after", str(kill["kill_actor_after"])]
    process = subprocess.Popen(cmd, start_new_session=True)
    if "kill_driver_after" in kill:
        time.sleep(kill["kill_driver_after"])
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        time.sleep(5)  # its actors die with it
        return {}
    if process.wait() != 0:
        raise SystemExit(f"driver failed ({process.returncode}): {' '.join(cmd)}")
    return dict(json.loads((run_dir / OUTCOME).read_text()))


def duplicates(server: FakeLLMServer, before: dict[str, int]) -> int:
    """Answers delivered more than once since ``before`` (the server's counts then)."""
    return sum(max(count - before.get(ident, 0) - 1, 0) for ident, count in server.served.items())


def measure(args: argparse.Namespace) -> dict[str, Any]:
    server = FakeLLMServer(latency_s=args.latency, max_requests=10**8).start()
    work = Path(tempfile.mkdtemp(prefix="ray-scaleout-"))
    rows: dict[str, Any] = {}
    try:
        for actors, items in ((1, args.small), (2, args.small), (2, args.items)):
            name = f"{actors}_actors_{items}_items"
            rows[name] = scenario(server.url, actors, items, args.concurrency, work / name)
            rows[name]["ideal_calls_per_s"] = actors * args.concurrency / args.latency
            print(name, rows[name], flush=True)
        reference = rows[f"2_actors_{args.small}_items"]
        with LLMClient(config(server.url, 1, args.concurrency, kind="local"), work / "local") as client:
            local = digest(client.stream("annotator", requests(args.small)))[1]
        before = dict(server.served)
        killed_actor = scenario(server.url, 2, args.small, args.concurrency, work / "actor-kill",
                                kill_actor_after=reference["seconds"] / 3)  # fmt: skip
        actor_dupes = duplicates(server, before)
        before = dict(server.served)
        scenario(server.url, 2, args.small, args.concurrency, work / "driver-kill",
                 kill_driver_after=reference["seconds"] / 3 + 15)  # fmt: skip
        rerun = scenario(server.url, 2, args.small, args.concurrency, work / "driver-kill")
        driver_dupes = duplicates(server, before)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    one, two = rows[f"1_actors_{args.small}_items"], rows[f"2_actors_{args.small}_items"]
    return {
        "scenarios": rows,
        "actor_killed": killed_actor | {"paid_twice": actor_dupes},
        "driver_killed_and_rerun": rerun | {"paid_twice": driver_dupes},
        "summary": {
            "calls_per_s_1_actor": one["calls_per_s"],
            "calls_per_s_2_actors": two["calls_per_s"],
            "fraction_of_ideal_1_actor": one["calls_per_s"] / one["ideal_calls_per_s"],
            "fraction_of_ideal_2_actors": two["calls_per_s"] / two["ideal_calls_per_s"],
            "speedup_2_vs_1": two["calls_per_s"] / one["calls_per_s"],
            "duplicate_paid_calls": actor_dupes + driver_dupes,
            "lost_rows": 2 * args.small - killed_actor["ok_rows"] - rerun["ok_rows"],
            "outputs_identical": float(two["values_sha"] == local == killed_actor["values_sha"] == rerun["values_sha"]),
            "driver_peak_mb": rows[f"2_actors_{args.items}_items"]["driver_peak_mb"],
            "driver_peak_mb_small": two["driver_peak_mb"],
        },
    }


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    s, actor, driver = result["summary"], result["actor_killed"], result["driver_killed_and_rerun"]
    flat = s["driver_peak_mb"] <= FLAT * s["driver_peak_mb_small"]
    lines = "\n".join(
        f"| {name.replace('_', ' ')} | {r['seconds']:.0f} | {r['calls_per_s']:.0f} | {r['ideal_calls_per_s']:.0f} | "
        f"{r['calls_per_s'] / r['ideal_calls_per_s']:.2f} | {r['driver_peak_mb']:.0f} |"
        for name, r in result["scenarios"].items()
    )
    return f"""## LLM batches on Ray (fake server, {args.latency * 1000:.0f} ms per call)

Command: `{command()}` ({date.today()}). Machine: 2 cores, local Ray (`llm.executor.kind=ray`), the fake
OpenAI-compatible server in the benchmark's process at a fixed {args.latency * 1000:.0f} ms latency,
{args.concurrency} calls in flight per actor, each actor with its own client and shard ledger; the ideal is
actors × concurrency / latency.

| scenario | seconds | calls/s | ideal | fraction of ideal | driver peak MB |
|---|---|---|---|---|---|
{lines}

2 actors against 1: ×{s["speedup_2_vs_1"]:.2f}. Kills ({args.small} items, 2 actors): an actor killed a third of the
way through (Ray restarts it and retries its task) sent {actor["paid_twice"]} calls twice, and a driver SIGKILLed
mid-batch, then rerun, {driver["paid_twice"]}: as many as were in flight at the kill ({args.concurrency} per actor
that died), whose answers no ledger had recorded. {s["lost_rows"]} rows lost;
outputs identical to the local executor's: {bool(s["outputs_identical"])}. The driver streams the catalogue
(`LLMClient.stream`, `llm.executor.window` requests at a time, each window's results hashed and dropped): its peak
memory is {s["driver_peak_mb_small"]:.0f} MB at {args.small} items and {s["driver_peak_mb"]:.0f} MB at {args.items}
({"flat: within" if flat else "not flat: beyond"} {FLAT - 1:.0%} of the small catalogue's).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200_000, help="the large catalogue")
    parser.add_argument("--small", type=int, default=50_000, help="the catalogue of the 1-actor and kill scenarios")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--driver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--actors", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kill-actor-after", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        driver(args)
        return
    result = measure(args)
    protocol = {"server": f"fake OpenAI-compatible, {args.latency} s per call",
                "concurrency_per_actor": args.concurrency, "items": args.items, "small": args.small,
                "ray": "local, num_cpus = actors"}  # fmt: skip
    save("ray_scaleout", result, protocol, summary=result["summary"])
    update_section("ray_scaleout", markdown(result, args))
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
