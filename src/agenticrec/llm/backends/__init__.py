"""Backends: embedded llama.cpp, OpenAI-compatible HTTP, and a scripted test double."""

from __future__ import annotations

from agenticrec.llm.backends.base import Backend
from agenticrec.llm.config import BackendConfig, EmbeddedBackendConfig, OpenAIBackendConfig


def build_backend(name: str, cfg: BackendConfig) -> Backend:
    """Create the backend described by `cfg` (not started yet)."""
    if isinstance(cfg, EmbeddedBackendConfig):
        from agenticrec.llm.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(name, cfg)
    if isinstance(cfg, OpenAIBackendConfig):
        from agenticrec.llm.backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(name, cfg)
    from agenticrec.llm.backends.scripted import ScriptedBackend

    return ScriptedBackend(cfg)


__all__ = ["Backend", "build_backend"]
