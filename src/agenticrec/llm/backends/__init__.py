"""Backends: embedded llama.cpp, OpenAI-compatible HTTP, and a scripted test double.

`BACKENDS` maps a config's `kind` to its class; adding a backend is one module plus one line here. The
classes import their client libraries (llama_cpp, openai) only when started.
"""

from __future__ import annotations

from agenticrec.llm.backends.base import Backend
from agenticrec.llm.backends.embedded import EmbeddedBackend
from agenticrec.llm.backends.openai_compat import OpenAICompatBackend
from agenticrec.llm.backends.scripted import ScriptedBackend
from agenticrec.llm.config import BackendConfig

BACKENDS: dict[str, type[Backend]] = {
    "embedded": EmbeddedBackend,
    "openai": OpenAICompatBackend,
    "scripted": ScriptedBackend,
}


def build_backend(name: str, cfg: BackendConfig) -> Backend:
    """Create the backend described by `cfg` (not started yet)."""
    return BACKENDS[cfg.kind](name, cfg)


__all__ = ["BACKENDS", "Backend", "build_backend"]
