"""Server settings: API keys (from the environment or a file, never from the command line), keyed reads, and
where the event store lives."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr

from agenticrec.errors import ConfigError

KEYS_ENV = "AGENTICREC_API_KEYS"


class ServeSettings(BaseModel):
    api_keys: list[SecretStr] = Field(default_factory=list, description="keys that may write (and read if keyed)")
    keyed_reads: bool = False
    events_path: Path
    page_users: int = Field(200, ge=1, description="users offered in the page's picker (any id can be typed)")

    def key_values(self) -> list[str]:
        return [key.get_secret_value() for key in self.api_keys]


def load_keys(keys_file: Path | None = None) -> list[SecretStr]:
    """Comma- or line-separated keys from ``AGENTICREC_API_KEYS`` and ``keys_file``."""
    text = os.environ.get(KEYS_ENV, "")
    if keys_file is not None:
        if not keys_file.is_file():
            raise ConfigError(f"API key file {keys_file} does not exist")
        text += "\n" + keys_file.read_text()
    keys = [k.strip() for k in text.replace(",", "\n").splitlines() if k.strip()]
    if any(len(k) < 16 for k in keys):
        raise ConfigError("API keys must be at least 16 characters long")
    return [SecretStr(k) for k in keys]
