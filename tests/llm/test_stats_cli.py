"""`agenticrec llm stats RUN_DIR`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from llm_testkit import scripted_config
from typer.testing import CliRunner

from agenticrec.cli.llm import app
from agenticrec.llm import LLMClient, LLMError, TransientFault
from agenticrec.llm.config import LEDGER_FILE
from agenticrec.llm.ledger import Ledger


def script(messages, schema):
    text = messages[-1]["content"]
    if text == "down":
        raise TransientFault("HTTP 503")
    return json.dumps({"answer": text})


def test_stats_table_per_role(tmp_path):
    with LLMClient(scripted_config(script), tmp_path) as client:
        client.batch("architect", ["a", "b"])
        client.batch("judge", ["a", "down", "c"])
        client.batch("judge", ["a", "c"])
    result = CliRunner().invoke(app, ["stats", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in result.output.splitlines()
        if line.startswith("│")
    }
    # calls, hits, failed, retries, tokens in, tokens out; the judge's "a" is the architect's cached call
    assert rows["architect"][:6] == ["2", "0", "0", "0", "2", "4"]
    assert rows["judge"][:6] == ["1", "3", "1", "2", "1", "2"]
    assert rows["all"][:6] == ["3", "3", "1", "2", "3", "6"]
    total = sum(r.latency_s for r in Ledger(tmp_path / LEDGER_FILE).records() if r.status == "ok")
    assert float(rows["all"][-1].replace(",", "")) == pytest.approx(total, abs=0.051)  # seconds of answered calls


def test_stats_without_ledger_is_a_user_error(tmp_path):
    result = CliRunner().invoke(app, ["stats", str(tmp_path)])
    assert isinstance(result.exception, LLMError) and "no LLM ledger" in str(result.exception)


def test_stats_piped_keep_whole_columns_and_read_as_json_or_csv(tmp_path):
    with LLMClient(scripted_config(script), tmp_path) as client:
        client.batch("architect", ["a", "b"])
    piped = subprocess.run([sys.executable, "-m", "agenticrec", "llm", "stats", str(tmp_path)],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": ""})  # fmt: skip
    assert piped.returncode == 0 and "architect" in piped.stdout and "tok out" in piped.stdout
    as_json = CliRunner().invoke(app, ["stats", str(tmp_path), "--format", "json"])
    [record] = json.loads(as_json.output)
    assert record["role"] == "architect" and record["calls"] == 2 and record["tokens_out"] == 4
    as_csv = CliRunner().invoke(app, ["stats", str(tmp_path), "--format", "csv"])
    header, row = as_csv.output.strip().splitlines()
    assert header.startswith("role,calls,failed,cache_hits") and row.startswith("architect,2,0,0")
