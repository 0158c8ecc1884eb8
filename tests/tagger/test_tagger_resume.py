"""`agenticrec tag build` killed mid-run (SIGKILL) and rerun: no completed call is lost or repeated."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tagger_testkit import call_hash, write_yaml_config

from agenticrec.tagger import artifacts

HERE = Path(__file__).parent


def build(config: Path, run_dir: Path, calls: Path, kill_at: int = 0) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TAGGER_CALLS": str(calls),
        "TAGGER_KILL_AT": str(kill_at),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "agenticrec", "tag", "build", "--config", str(config), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def completed(run_dir: Path) -> set[str]:
    db = sqlite3.connect(run_dir / "llm.sqlite")
    try:
        rows = db.execute("SELECT request FROM calls WHERE status = 'ok'").fetchall()
    finally:
        db.close()
    return {call_hash(json.loads(request)["messages"]) for (request,) in rows}


def test_kill_and_rerun_repeats_no_completed_call(tmp_path):
    config = write_yaml_config(tmp_path, "tagger_testkit:killable_script", build={"max_depth": 2})
    clean = build(config, tmp_path / "clean", tmp_path / "clean.calls")
    assert clean.returncode == 0, clean.stderr
    total = len((tmp_path / "clean.calls").read_text().splitlines())

    calls = tmp_path / "resumed.calls"
    killed = build(config, tmp_path / "resumed", calls, kill_at=total // 2)
    assert killed.returncode == -signal.SIGKILL
    assert not (artifacts.tagger_dir(tmp_path / "resumed") / artifacts.VOCABULARY).exists()  # no half artifact
    done = completed(tmp_path / "resumed")
    assert len(done) == total // 2 - 1  # every call answered before the kill is in the ledger

    before = len(calls.read_text().splitlines())
    rerun = build(config, tmp_path / "resumed", calls)
    assert rerun.returncode == 0, rerun.stderr
    repeated = calls.read_text().splitlines()[before:]
    assert not done & set(repeated)
    assert len(repeated) == total - len(done)
    vocabularies = [
        (artifacts.tagger_dir(tmp_path / r) / artifacts.VOCABULARY).read_text() for r in ("clean", "resumed")
    ]
    assert vocabularies[0] == vocabularies[1]
