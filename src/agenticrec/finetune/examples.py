"""Curated training examples: one chat request and the answer the fine-tuned model should give, tagged with its task
and the item (or group) it is about, so that splits never share an item."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from agenticrec.errors import DataError

Task = Literal["choice", "critique", "naming", "ranking"]
CURRICULUM: tuple[Task, ...] = ("choice", "critique", "naming", "ranking")
"""The order tasks are trained in, easy single choice first (RecGPT's curriculum)."""
CHOSEN: tuple[Task, ...] = ("choice", "critique", "ranking")
"""The tasks whose answer is one of the options the question offers."""
SPLITS = ("train", "valid", "test")


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Example(BaseModel):
    task: Task
    item: str = Field(min_length=1, description="the item or group the example is about; splits are by item")
    messages: list[Message] = Field(min_length=1)
    answer: str = Field(min_length=1)
    options: list[str] | None = Field(None, description="what a choice, critique or ranking question offers")


def problem(example: Example) -> str | None:
    """Why an example fails the checks its task has, or None: a chosen answer must be one of its question's options,
    a name must be a descriptor (a JSON object with a name), and the chat must end with the user's turn."""
    if example.messages[-1].role != "user":
        return "the chat does not end with the user's turn"
    if example.task in CHOSEN:
        return "the answer is not one of the options" if example.answer not in (example.options or []) else None
    try:
        name = json.loads(example.answer).get("name")
    except (json.JSONDecodeError, AttributeError):
        name = None
    return None if isinstance(name, str) and name.strip() else "the answer is not a descriptor with a name"


def read_examples(path: Path) -> list[Example]:
    """Examples from a JSONL file, one object per line; a malformed line is named with its number."""
    if not path.is_file():
        raise DataError(f"no examples file at {path}")
    examples = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(Example.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as err:
            raise DataError(f"{path}:{number}: not an example ({str(err).splitlines()[0]})") from err
    if not examples:
        raise DataError(f"{path} holds no examples")
    failures = Counter(reason for e in examples if (reason := problem(e)))
    if failures:
        counts = "; ".join(f"{reason}: {n}" for reason, n in failures.most_common())
        raise DataError(f"{path}: {failures.total()} of {len(examples)} examples fail the checks ({counts})")
    return examples


def split_of(item: str, valid: float, test: float) -> str:
    """The split an item belongs to, by a stable hash of its id: the same item always lands in the same split."""
    bucket = int(hashlib.sha256(item.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test else "valid" if bucket < test + valid else "train"


def split_by_item(examples: Sequence[Example], valid: float, test: float) -> dict[str, list[Example]]:
    splits: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for example in examples:
        splits[split_of(example.item, valid, test)].append(example)
    return splits


def in_curriculum(examples: Sequence[Example]) -> list[Example]:
    """The examples in curriculum order (stable within a task)."""
    return sorted(examples, key=lambda e: CURRICULUM.index(e.task))
