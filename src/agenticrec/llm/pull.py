"""Download a known instruct GGUF from the Hugging Face hub for the embedded backend, and verify it.

Offline, or where the hub cannot be reached, download the file by other means and point
``llm.backends.<name>.model_path`` at it; nothing else in agenticrec needs the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agenticrec.io import file_sha256
from agenticrec.llm.errors import LLMError


@dataclass(frozen=True)
class KnownModel:
    repo: str
    filename: str
    note: str


KNOWN_MODELS = {
    "qwen2.5-0.5b-instruct": KnownModel(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf", "0.4 GB; quick, weak at naming"
    ),
    "qwen2.5-1.5b-instruct": KnownModel(
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf", "1.1 GB; ~28 tokens/s on 2 cores"
    ),
    "qwen2.5-3b-instruct": KnownModel(
        "Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf", "2.1 GB; better names, half the speed"
    ),
}


def pull_model(name: str, dest: Path, endpoint: str | None = None) -> Path:
    """Download model `name` into `dest` (skipped when a verified copy is there) and return its path.

    The file's SHA-256 is compared with the hub's LFS checksum; `LLMError` when the name is unknown, the hub
    cannot be reached, or the checksum differs.
    """
    if name not in KNOWN_MODELS:
        raise LLMError(f"unknown model {name!r}; known: {', '.join(sorted(KNOWN_MODELS))}")
    model = KNOWN_MODELS[name]
    try:
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.hf_api import RepoFile

        info = HfApi(endpoint=endpoint).get_paths_info(model.repo, [model.filename], expand=True)
        found = info[0] if info and isinstance(info[0], RepoFile) else None
        expected = found.lfs.sha256 if found is not None and found.lfs is not None else None
        path = Path(hf_hub_download(model.repo, model.filename, local_dir=dest, endpoint=endpoint))
    except Exception as err:  # the hub client raises many kinds: connection, HTTP, offline mode
        raise LLMError(
            f"cannot download {model.repo}/{model.filename} from the Hugging Face hub "
            f"({type(err).__name__}: {err}). Offline, fetch the GGUF file by other means and set "
            "llm.backends.<name>.model_path to it (kind: embedded)."
        ) from None
    if expected is None:
        raise LLMError(f"the hub gave no checksum for {model.repo}/{model.filename}; not using an unverified file")
    if file_sha256(path) != expected:
        raise LLMError(f"{path}: SHA-256 differs from the hub's ({expected}); delete the file and pull again")
    return path


def config_snippet(path: Path, backend: str = "local") -> str:
    """The `llm:` section that makes every role use the GGUF at `path` in-process."""
    return (
        "llm:\n"
        "  backends:\n"
        f"    {backend}:\n"
        "      kind: embedded\n"
        f"      model_path: {path}\n"
        "  default:\n"
        f"    backend: {backend}\n"
    )
