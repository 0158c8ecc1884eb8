"""The `kind -> class` table of backends."""

from __future__ import annotations

import subprocess
import sys
import typing

from agenticrec.llm import LLMConfig
from agenticrec.llm.backends import BACKENDS, build_backend
from agenticrec.llm.backends.scripted import ScriptedBackend
from agenticrec.llm.config import BackendConfig


def test_every_config_kind_has_a_backend_class():
    union = typing.get_args(typing.get_args(BackendConfig)[0])
    kinds = {typing.get_args(cfg.model_fields["kind"].annotation)[0] for cfg in union}
    assert kinds == set(BACKENDS) == {"embedded", "openai", "scripted"}
    assert all(cls.kind == kind for kind, cls in BACKENDS.items())


def test_build_backend_looks_up_the_kind():
    cfg = LLMConfig.model_validate({"backends": {"s": {"kind": "scripted", "script": lambda m, s: "x", "name": "m"}}})
    backend = build_backend("s", cfg.backends["s"])
    assert isinstance(backend, ScriptedBackend) and backend.name == "s" and backend.model == "m"


def test_client_libraries_load_only_when_a_backend_starts():
    code = "import sys, agenticrec.llm.backends; print(sorted({'openai', 'llama_cpp'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_model_paths_expand_variables_with_defaults_and_home(monkeypatch):
    from pathlib import Path

    from agenticrec.llm.backends.embedded import expand_path

    monkeypatch.delenv("AGENTICREC_MODEL_DIR", raising=False)
    assert expand_path("${AGENTICREC_MODEL_DIR:-~/models}/q.gguf") == Path.home() / "models" / "q.gguf"
    monkeypatch.setenv("AGENTICREC_MODEL_DIR", "/opt/m")
    assert expand_path("${AGENTICREC_MODEL_DIR:-~/models}/q.gguf") == Path("/opt/m/q.gguf")
    assert expand_path("$AGENTICREC_MODEL_DIR/q.gguf") == Path("/opt/m/q.gguf")
    monkeypatch.delenv("AGENTICREC_MODEL_DIR")
    assert expand_path("${AGENTICREC_MODEL_DIR}/q.gguf") == Path("${AGENTICREC_MODEL_DIR}/q.gguf")
