"""The descriptor vocabulary: a versioned tree of named, described descriptors, saved as JSON.

Ids encode the path: level-1 descriptors are "1", "2", ...; the children of "2" are "2.1", "2.2", ...
Sibling names are unique, so a name chosen from a level's list identifies one descriptor.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator
from rich.tree import Tree

from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_write_text

FORMAT_VERSION = 1
VOCABULARY_FILE = "vocabulary.json"


class Descriptor(BaseModel):
    id: str
    name: str
    description: str
    includes: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    parent: str | None = None
    level: int = Field(ge=1)
    item_count: int = Field(0, ge=0, description="items that reached this descriptor while building")

    def card(self) -> str:
        """Name, description and INCLUDES/EXCLUDES on one line, as prompts show it."""
        text = f"{self.name}: {self.description}"
        if self.includes:
            text += f" INCLUDES: {', '.join(self.includes)}."
        if self.excludes:
            text += f" EXCLUDES: {', '.join(self.excludes)}."
        return text


class Vocabulary(BaseModel):
    format_version: int = FORMAT_VERSION
    dataset: str
    n_items: int
    descriptors: list[Descriptor] = Field(default_factory=list)
    _by_id: dict[str, Descriptor] = PrivateAttr(default_factory=dict)
    _children: dict[str | None, list[Descriptor]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_tree(self) -> Vocabulary:
        ids = {d.id for d in self.descriptors}
        if len(ids) != len(self.descriptors):
            raise ValueError("duplicate descriptor ids")
        seen: set[tuple[str | None, str]] = set()
        for d in self.descriptors:
            if d.parent is not None and d.parent not in ids:
                raise ValueError(f"descriptor {d.id} has unknown parent {d.parent}")
            if (d.parent, d.name) in seen:
                raise ValueError(f"two children of {d.parent or 'the root'} are named {d.name!r}")
            seen.add((d.parent, d.name))
        self._index(self.descriptors)
        return self

    def _index(self, descriptors: list[Descriptor]) -> None:
        """Add ``descriptors`` to the id and parent indices."""
        for d in descriptors:
            self._by_id[d.id] = d
            self._children.setdefault(d.parent, []).append(d)

    def children(self, parent: str | None) -> list[Descriptor]:
        """Children of descriptor `parent` (None = the root) in id order."""
        return list(self._children.get(parent, ()))

    def get(self, descriptor_id: str) -> Descriptor:
        try:
            return self._by_id[descriptor_id]
        except KeyError:
            raise AgenticRecError(f"unknown descriptor id {descriptor_id!r}") from None

    def add_children(self, parent: str | None, children: list[Descriptor]) -> list[Descriptor]:
        """Attach `children` under `parent`, giving them path ids; returns the stored descriptors."""
        names = [c.name for c in children]
        if len(set(names)) != len(names):
            raise AgenticRecError(f"two children of {parent or 'the root'} share a name: {names}")
        level = 1 if parent is None else self.get(parent).level + 1
        prefix = "" if parent is None else f"{parent}."
        stored = [
            child.model_copy(update={"id": f"{prefix}{i}", "parent": parent, "level": level})
            for i, child in enumerate(children, start=1)
        ]
        self.descriptors.extend(stored)
        self._index(stored)
        return stored

    def depth(self) -> int:
        return max((d.level for d in self.descriptors), default=0)

    def size_per_level(self) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for d in self.descriptors:
            sizes[d.level] = sizes.get(d.level, 0) + 1
        return dict(sorted(sizes.items()))

    def tree(self, title: str | None = None) -> Tree:
        """A rich tree of the vocabulary with item counts."""
        root = Tree(title or f"{self.dataset}: {len(self.descriptors)} descriptors, {self.n_items} items")

        def grow(node: Tree, parent: str | None) -> None:
            for d in self.children(parent):
                branch = node.add(f"[bold]{d.name}[/] [dim]({d.id}, {d.item_count} items)[/] {d.description}")
                grow(branch, d.id)

        grow(root, None)
        return root

    def save(self, path: Path) -> None:
        atomic_write_text(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        if not path.is_file():
            raise AgenticRecError(f"no vocabulary at {path}; run `agenticrec tag build` first")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise AgenticRecError(f"{path}: not valid JSON ({exc})") from None
        if data.get("format_version") != FORMAT_VERSION:
            raise AgenticRecError(
                f"{path}: vocabulary format {data.get('format_version')!r}, this agenticrec reads {FORMAT_VERSION}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise AgenticRecError(f"{path}: invalid vocabulary: {exc.errors()[0]['msg']}") from None
