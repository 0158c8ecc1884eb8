"""Semantic-ID builders, one registry: residual k-means codes, descriptor paths, catalogue category paths.

Adding a builder is one function plus one line in ``SEMANTIC_ID_BUILDERS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.errors import AgenticRecError
from agenticrec.io import write_json
from agenticrec.semantic_ids.codes import SemanticIDs, catalogue_key
from agenticrec.semantic_ids.config import SemanticIDConfig

Builder = Callable[[Dataset, SemanticIDConfig, Path, int], SemanticIDs]


def residual_kmeans_codes(embeddings: np.ndarray, levels: int, codes: int, seed: int) -> np.ndarray:
    """(n, levels) codes: level l clusters the residual left after subtracting the centroids of levels < l."""
    residual = embeddings.astype(np.float64)
    k = min(codes, len(embeddings))
    out = np.zeros((len(embeddings), levels), dtype=np.int64)
    for level in range(levels):
        kmeans = KMeans(n_clusters=k, n_init=1, random_state=seed + level).fit(residual)
        out[:, level] = kmeans.labels_
        residual = residual - kmeans.cluster_centers_[kmeans.labels_]
    return out


def build_rkmeans(dataset: Dataset, config: SemanticIDConfig, run_dir: Path, seed: int) -> SemanticIDs:
    """TIGER-style IDs from MiniLM embeddings of the item text (the RQ-VAE replaced by residual k-means)."""
    vectors = embed_texts(dataset.item_texts(), config.embedding_model, cache_dir=run_dir / "cache")
    codes = residual_kmeans_codes(vectors, config.levels, config.codes, seed)
    paths = [tuple(f"L{level + 1}:{c}" for level, c in enumerate(row)) for row in codes]
    return SemanticIDs.from_paths("rkmeans", paths, catalogue=catalogue_key(dataset.item_ids()))


def build_descriptors(dataset: Dataset, config: SemanticIDConfig, run_dir: Path, seed: int) -> SemanticIDs:
    """AgenticTagger descriptor paths, as ``tag assign`` published them in its run's ``semantic_ids/`` (descriptor
    ids as tokens, names as labels)."""
    source = Path(config.tagger_run or run_dir)
    path = semantic_ids_path(source, "descriptors")
    if not path.is_file():
        raise AgenticRecError(f"no descriptor IDs at {path}; run `agenticrec tag assign` for {source} first")
    ids = SemanticIDs.load(path)
    if ids.catalogue != catalogue_key(dataset.item_ids()):
        raise AgenticRecError(
            f"{source}: the tagger's assignments are for another catalogue than {dataset.name} "
            f"({ids.n_items} items vs {dataset.n_items}); rerun `agenticrec tag assign` for this dataset"
        )
    return ids


def build_categories(dataset: Dataset, config: SemanticIDConfig, run_dir: Path, seed: int) -> SemanticIDs:
    """The item's first 'A > B > C' category path under the top level that most items have a path under (else
    its first path: Amazon Sports lists stray paths such as '<UNRESOLVED_TOPLEVEL_851> > ...' first for 67
    items); tokens are the path prefixes, so each is unique. Leading levels that every path under that top level
    shares (Amazon's 'Beauty') are dropped from those paths: they tell items nothing apart, and an item filed only
    under them (251 Sports items under 'Sports & Outdoors' alone) is left uncategorised."""
    field = config.category_field
    if field not in dataset.items.columns:
        raise AgenticRecError(f"{dataset.name}: items have no {field!r} column for category semantic IDs")
    listed = [
        [levels for path in value.split(" | ") if (levels := [p.strip() for p in path.split(" > ") if p.strip()])]
        if isinstance(value, str)
        else []
        for value in dataset.items[field]
    ]
    roots = Counter(root for paths in listed for root in {path[0] for path in paths})
    top = roots.most_common(1)[0][0] if roots else None
    chosen = [next((path for path in paths if path[0] == top), paths[0]) if paths else [] for paths in listed]
    shared = _shared_root([path for path in chosen if path and path[0] == top])
    paths, names = [], []
    for levels in chosen:
        drop = shared if levels and levels[0] == top else 0
        paths.append(tuple(" > ".join(levels[: drop + i + 1]) for i in range(len(levels) - drop)))
        names.append(tuple(levels[drop:]))
    return SemanticIDs.from_paths("categories", paths, names, catalogue=catalogue_key(dataset.item_ids()))


def _shared_root(paths: list[list[str]]) -> int:
    """How many leading levels all non-empty paths share; a path made only of shared levels is left empty."""
    present = [p for p in paths if p]
    if not present:
        return 0
    depth = 0
    while all(len(p) > depth and p[depth] == present[0][depth] for p in present):
        depth += 1
    return depth


SEMANTIC_ID_BUILDERS: dict[str, Builder] = {
    "rkmeans": build_rkmeans,
    "descriptors": build_descriptors,
    "categories": build_categories,
}


def semantic_ids_path(run_dir: Path, method: str) -> Path:
    return Path(run_dir) / "semantic_ids" / f"{method}.parquet"


def save_semantic_ids(ids: SemanticIDs, run_dir: Path) -> Path:
    """Write ``ids`` and their collision figures to ``run_dir/semantic_ids/<method>.parquet`` (+ ``.stats.json``)."""
    path = semantic_ids_path(run_dir, ids.method)
    ids.save(path)
    write_json(path.with_suffix(".stats.json"), ids.stats())
    return path


def build_semantic_ids(dataset: Dataset, config: SemanticIDConfig, run_dir: Path, seed: int) -> SemanticIDs:
    """The `ids build` stage: build the configured IDs and save them under ``run_dir/semantic_ids``."""
    ids = SEMANTIC_ID_BUILDERS[config.method](dataset, config, Path(run_dir), seed)
    save_semantic_ids(ids, run_dir)
    return ids


def load_semantic_ids(run_dir: Path, method: str) -> SemanticIDs:
    """The IDs the `ids build` stage saved in ``run_dir``."""
    path = semantic_ids_path(run_dir, method)
    if not path.is_file():
        raise AgenticRecError(f"no {method} semantic IDs in {run_dir}; build them with `agenticrec ids build`")
    return SemanticIDs.load(path)
