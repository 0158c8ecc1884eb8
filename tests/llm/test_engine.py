"""The local inference engine (llama.cpp's server in a child process) and the batched option scorer, with the real
SmolLM2-135M-Instruct model: start-up faults, a killed engine, and scores equal to one option at a time."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest
from pydantic import create_model

from agenticrec.llm import LLMClient, LLMConfig, LLMError, chat, one_of
from agenticrec.llm.backends.embedded import default_model_path
from agenticrec.llm.engine import Engine, EngineSettings
from agenticrec.llm.ledger import Ledger

Colour = create_model("Colour", colour=(one_of(["red", "green", "blue", "white", "black"]), ...))


def settings(**changes: object) -> EngineSettings:
    base = {"model": default_model_path(), "slots": 2, "ctx_per_slot": 1024, "threads": 2, "batch": 256}
    return EngineSettings(**{**base, **changes})  # type: ignore[arg-type]


def config(**backend: object) -> LLMConfig:
    return LLMConfig.model_validate(
        {
            "backends": {"local": {"kind": "embedded", "n_ctx": 1024, **backend}},
            "default": {"backend": "local", "max_tokens": 12},
            "progress": False,
        }
    )


def test_a_taken_port_is_named(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(LLMError, match=rf"127\.0\.0\.1:{port}: the port is taken"):
            Engine("local", settings(port=port)).start()


def test_a_model_larger_than_free_memory_is_refused_with_its_file(monkeypatch):
    monkeypatch.setattr("agenticrec.llm.engine.available_memory_bytes", lambda: 1024)
    with pytest.raises(LLMError, match=r"cannot load .*SmolLM2-135M-Instruct\.Q4_1\.gguf: the file is .* GiB"):
        Engine("local", settings()).start()


def test_a_file_that_is_no_model_stops_the_engine_with_its_name(tmp_path):
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("not a model")
    with pytest.raises(LLMError, match=r"engine did not start with .*notes\.gguf"):
        Engine("local", settings(model=bogus)).start()


@pytest.mark.slow
def test_a_killed_engine_is_restarted_once_and_no_finished_call_is_paid_twice(tmp_path):
    requests = [chat("Name the colour of the item.", f"Item {i}: a painted chair") for i in range(16)]
    with LLMClient(config(slots=2), tmp_path) as client:
        client.call("annotator", requests[0], Colour)
        backend = client.local.backends["local"]
        engine = backend.engine
        assert engine is not None and engine.alive()
        killed: list[int] = []

        def kill_when_some_are_done() -> None:
            ledger = Ledger(tmp_path / "llm.sqlite")
            while len(ledger.records()) < 4:
                time.sleep(0.05)
            ledger.close()
            killed.append(engine._proc.pid)  # type: ignore[union-attr]
            os.kill(killed[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_when_some_are_done)
        killer.start()
        results = client.batch("annotator", requests, Colour)
        killer.join()
        assert killed and engine.restarts == 1 and engine.alive()
        assert all(r.ok for r in results)
        again = client.batch("annotator", requests, Colour)
    assert all(r.cached for r in again)  # every answer was committed once and is now free
    ledger = Ledger(tmp_path / "llm.sqlite")
    assert len(ledger.records()) == len(requests)
    ledger.close()


@pytest.mark.slow
def test_options_scored_together_match_one_at_a_time():
    """All options in one batch (shared prefixes evaluated once) against one option per decode."""
    messages = chat("Pick the category of the product.", "Product: long-lasting red matte lipstick")
    options = [f"Makeup > Lips > {kind}" for kind in ("Lipstick", "Gloss", "Liner")] + ["Hair Care", "Nail Care"]
    scores = {}
    for width in (2, 32):
        with LLMClient(config(engine="in-process", score_sequences=width)) as client:
            [result] = client.score("annotator", [messages], [options])
        scores[width] = [s.logprob for s in result.value]
    assert scores[2].index(max(scores[2])) == scores[32].index(max(scores[32]))
    assert max(abs(a - b) for a, b in zip(scores[2], scores[32], strict=True)) < 0.5  # batch-size rounding only
