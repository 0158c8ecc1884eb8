"""Fixtures of the data-loader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from agenticrec.data.registry import default_data_dir


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The benchmark data root (``$AGENTICREC_DATA_DIR`` or ``../shared/data``); skips when it is absent."""
    root = default_data_dir()
    if root is None or not root.is_dir():
        pytest.skip("shared benchmark data directory not found (set $AGENTICREC_DATA_DIR)")
    return root
