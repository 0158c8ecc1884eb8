"""Shared helpers of the LLM tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from agenticrec.llm import LLMConfig


class Echo(BaseModel):
    """Output model matching the fake server's answers."""

    echo: str
    label: Literal["even", "odd"]


def expected(text: str) -> Echo:
    return Echo(echo=text, label="even" if len(text) % 2 == 0 else "odd")


def http_config(url: str, **backend: Any) -> LLMConfig:
    """All roles on the server at `url`, with retries short enough for tests."""
    return LLMConfig.model_validate(
        {
            "backends": {
                "fake": {
                    "kind": "openai",
                    "base_url": url,
                    "model": "fake-model",
                    "timeout_s": 2.0,
                    "max_concurrency": 32,
                    **backend,
                }
            },
            "default": {"backend": "fake"},
            "retry": {"max_attempts": 6, "base_delay_s": 0.02, "max_delay_s": 0.2},
            "progress": False,
        }
    )


def scripted_config(script: Callable, **extra: Any) -> LLMConfig:
    return LLMConfig.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": script}},
            "default": {"backend": "script"},
            "retry": {"max_attempts": 3, "base_delay_s": 0.0, "max_delay_s": 0.0},
            "progress": False,
            **extra,
        }
    )
