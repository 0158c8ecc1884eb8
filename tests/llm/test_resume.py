"""SIGKILL mid-batch, then re-run: no completed call is lost and none is repeated."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

N = 200


def _ledger_rows(path: Path) -> dict[str, float]:
    """First user message -> created_at of the completed calls in the ledger."""
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT request, created_at FROM calls WHERE status = 'ok'").fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return {}
    finally:
        db.close()
    return {json.loads(req)["messages"][0]["content"]: at for req, at in rows}


def _worker(url: str, run_dir: Path) -> subprocess.Popen:
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, str(here / "resume_worker.py"), url, str(run_dir), str(N)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_mid_batch_loses_and_repeats_nothing(fake_server, tmp_path):
    server = fake_server(latency_s=0.05)
    ledger = tmp_path / "llm.sqlite"

    proc = _worker(server.url, tmp_path)
    deadline = time.monotonic() + 120
    while len(_ledger_rows(ledger)) < N // 4:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    before = _ledger_rows(ledger)
    assert N // 4 <= len(before) < N  # killed mid-batch
    attempts_before = server.attempts.copy()

    proc = _worker(server.url, tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])

    after = _ledger_rows(ledger)
    asked_again = server.attempts - attempts_before
    lost = [f"item {i}" for i in range(N) if f"item {i}" not in after]
    repeated = [text for text in before if asked_again[text] > 0]
    assert lost == [] and repeated == []
    assert all(after[text] == at for text, at in before.items())  # completed rows untouched
    assert summary == {"ok": N, "cached": len(before)}
    assert sorted(asked_again) == sorted(set(after) - set(before))  # the rest was asked once each
    assert all(count == 1 for count in asked_again.values())
