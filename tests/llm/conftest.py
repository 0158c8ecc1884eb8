"""Fixtures of the LLM tests: the fault-injecting OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agenticrec.testing.fake_server import FakeLLMServer


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeLLMServer]]:
    """Factory: `fake_server(**options)` starts a FakeLLMServer on 127.0.0.1, stopped after the test."""
    started: list[FakeLLMServer] = []

    def start(**options: Any) -> FakeLLMServer:
        options.setdefault("max_requests", 5_000)
        server = FakeLLMServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
