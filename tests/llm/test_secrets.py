"""The API key never reaches the ledger, the logs or exception text, even from a server that echoes it."""

from __future__ import annotations

import logging
import traceback

import pytest
from llm_testkit import Echo, expected, http_config

from agenticrec.llm import LLMClient, LLMError
from agenticrec.testing.fake_server import FaultPlan

SECRET = "sk-test-5f1c9a7e0b2d4e6f8a"


@pytest.fixture
def debug_logs(caplog):
    for name in (None, "openai", "httpx", "httpx2", "httpcore", "httpcore2", "agenticrec"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _ledger_bytes(run_dir):
    return b"".join(p.read_bytes() for p in run_dir.iterdir() if p.name.startswith("llm.sqlite"))


def test_key_is_used_but_never_recorded(fake_server, tmp_path, monkeypatch, debug_logs, capsys):
    monkeypatch.setenv("AGENTICREC_TEST_KEY", SECRET)
    # every request first meets an error whose body repeats the Authorization header
    server = fake_server(
        api_key=SECRET, leak_auth=True, faults=FaultPlan(share=1.0, max_per_request=1, kinds=("http_500",))
    )
    with LLMClient(http_config(server.url, api_key_env="AGENTICREC_TEST_KEY"), tmp_path) as client:
        results = client.batch("annotator", [f"q{i}" for i in range(20)], Echo, progress=True)
        records = client.ledger.records()
    assert [r.value for r in results] == [expected(f"q{i}") for i in range(20)]  # the key was accepted
    assert all("[REDACTED]" in r.errors[0] for r in records)  # the leak happened and was scrubbed
    assert SECRET.encode() not in _ledger_bytes(tmp_path)
    assert any(rec.name.startswith(("openai", "httpx")) for rec in debug_logs.records)  # debug logs were on
    assert SECRET not in debug_logs.text
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err


def test_rejected_key_error_does_not_show_it(fake_server, monkeypatch, debug_logs):
    monkeypatch.setenv("AGENTICREC_TEST_KEY", SECRET)
    server = fake_server(api_key="another-key", leak_auth=True)
    with (
        LLMClient(http_config(server.url, api_key_env="AGENTICREC_TEST_KEY")) as client,
        pytest.raises(LLMError, match="rejected the credentials") as info,
    ):
        client.call("judge", "q", Echo)
    text = "".join(traceback.format_exception(info.value))
    assert "AGENTICREC_TEST_KEY" in text and SECRET not in text
    assert SECRET not in debug_logs.text


def test_missing_key_variable_is_named(monkeypatch):
    monkeypatch.delenv("AGENTICREC_TEST_KEY", raising=False)
    with (
        LLMClient(http_config("http://127.0.0.1:9/v1", api_key_env="AGENTICREC_TEST_KEY")) as client,
        pytest.raises(LLMError, match=r"environment variable AGENTICREC_TEST_KEY .* is not set"),
    ):
        client.call("judge", "q")
