"""Semantic IDs: per item a path of level tokens plus a resolver token that makes every ID unique."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_path

RESOLVER_PREFIX = "#"


def catalogue_key(item_ids: Sequence[str]) -> str:
    """A fingerprint of a catalogue's item ids in index order, so IDs are never applied to another catalogue."""
    return hashlib.sha256("\n".join(item_ids).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SemanticIDs:
    """``paths[i]`` and ``names[i]`` belong to item index ``i + 1``; a path may be empty or of any length.

    Tokens are strings unique to what they denote (``L2:17`` for a k-means code, ``3.1`` for a descriptor,
    ``Beauty > Makeup`` for a category prefix), so tokens of different levels never clash. Items that share a
    whole path get resolvers 0, 1, 2, ... in item order (the paper's collision-resolver token); this is the one
    collision resolver, used by every builder and by the tagger's assignment. ``catalogue`` is the
    ``catalogue_key`` of the items the IDs were built for.
    """

    method: str
    paths: list[tuple[str, ...]]
    names: list[tuple[str, ...]]
    resolvers: np.ndarray
    catalogue: str = ""

    @classmethod
    def from_paths(
        cls,
        method: str,
        paths: Sequence[Sequence[str]],
        names: Sequence[Sequence[str]] | None = None,
        catalogue: str = "",
    ) -> SemanticIDs:
        seen: Counter[tuple[str, ...]] = Counter()
        resolvers = np.zeros(len(paths), dtype=np.int64)
        tuples = [tuple(p) for p in paths]
        for i, path in enumerate(tuples):
            resolvers[i] = seen[path]
            seen[path] += 1
        labels = [tuple(n) for n in names] if names is not None else tuples
        if len(labels) != len(tuples) or any(len(a) != len(b) for a, b in zip(labels, tuples)):
            raise AgenticRecError(f"{method} semantic IDs: every path needs one name per token")
        return cls(method, tuples, labels, resolvers, catalogue)

    @property
    def n_items(self) -> int:
        return len(self.paths)

    def tokens(self, index: int) -> tuple[str, ...]:
        """Item ``index``'s (1-based) full ID: its path, then its resolver token."""
        return (*self.paths[index - 1], f"{RESOLVER_PREFIX}{self.resolvers[index - 1]}")

    def label(self, index: int) -> str:
        """A readable ID, e.g. ``Skin Care > Moisturisers #2``."""
        return f"{' > '.join(self.names[index - 1]) or '(root)'} {RESOLVER_PREFIX}{self.resolvers[index - 1]}"

    @cached_property
    def _items_by_prefix(self) -> dict[tuple[str, ...], np.ndarray]:
        """Item indices under every prefix of every path (the empty prefix covers all items)."""
        groups: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, path in enumerate(self.paths, start=1):
            for depth in range(len(path) + 1):
                groups[path[:depth]].append(index)
        return {prefix: np.asarray(items) for prefix, items in groups.items()}

    def items_under(self, prefixes: Sequence[Sequence[str]]) -> np.ndarray:
        """Boolean mask over item indices (entry 0 = padding, False): items whose path starts with a prefix."""
        mask = np.zeros(self.n_items + 1, dtype=bool)
        for prefix in prefixes:
            mask[self._items_by_prefix.get(tuple(prefix), [])] = True
        return mask

    def level1(self) -> dict[str, str]:
        """Distinct first-level tokens in item order, with their names."""
        out: dict[str, str] = {}
        for path, names in zip(self.paths, self.names):
            if path and path[0] not in out:
                out[path[0]] = names[0]
        return out

    def items_under_level1(self, wanted: Sequence[str]) -> np.ndarray:
        """Item mask under level-1 tokens given by token or name (case-insensitive), e.g. ``3`` or ``Skin Care``."""
        options = self.level1()
        lookup = {token: token for token in options} | {name.casefold(): token for token, name in options.items()}
        unknown = [w for w in wanted if w not in lookup and w.casefold() not in lookup]
        if unknown:
            known = ", ".join(f"{token} ({name})" for token, name in options.items())
            raise AgenticRecError(f"unknown level-1 descriptor(s) {unknown}; choose from: {known}")
        return self.items_under([(lookup.get(w) or lookup[w.casefold()],) for w in wanted])

    def stats(self) -> dict[str, Any]:
        """Collision figures before the resolver, and the ID length distribution."""
        buckets = Counter(self.paths)
        shared = sum(size for size in buckets.values() if size > 1)
        lengths = Counter(len(p) + 1 for p in self.paths)
        return {
            "method": self.method,
            "items": self.n_items,
            "distinct_paths": len(buckets),
            "collision_rate": shared / self.n_items if self.n_items else 0.0,
            "largest_bucket": max(buckets.values(), default=0),
            "tokens_per_level": [
                len({p[level] for p in self.paths if len(p) > level})
                for level in range(max((len(p) for p in self.paths), default=0))
            ],
            "id_lengths": dict(sorted(lengths.items())),
        }

    def save(self, path: Path) -> None:
        """Write a Parquet table (item_index, path, names, resolver) with the method in its schema metadata."""
        table = pa.table(
            {
                "item_index": np.arange(1, self.n_items + 1),
                "path": [list(p) for p in self.paths],
                "names": [list(n) for n in self.names],
                "resolver": self.resolvers,
            }
        )
        with atomic_path(path) as tmp:
            pq.write_table(table.replace_schema_metadata({"method": self.method, "catalogue": self.catalogue}), tmp)

    @classmethod
    def load(cls, path: Path) -> SemanticIDs:
        if not path.is_file():
            raise AgenticRecError(f"no semantic IDs at {path}")
        table = pq.read_table(path)
        metadata = table.schema.metadata or {}
        return cls(
            metadata.get(b"method", b"unknown").decode(),
            [tuple(p) for p in table["path"].to_pylist()],
            [tuple(n) for n in table["names"].to_pylist()],
            table["resolver"].to_numpy().astype(np.int64),
            metadata.get(b"catalogue", b"").decode(),
        )
