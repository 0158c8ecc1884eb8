"""Several registered datasets as one, the multi-domain mixture that UniSRec pre-trains on: each part's item and user
ids keep their origin under a ``NAME:`` prefix, the text fields are the union of the parts' (in first-seen order, an
item rendering only the fields it has), and no sequence crosses two parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenticrec.data.dataset import Dataset
from agenticrec.errors import DataError


class MixedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    options: dict[str, Any] = Field(default_factory=dict, description="the part's loader options")


class MixedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    datasets: list[MixedPart] = Field(
        min_length=2, description="the parts: registered dataset names, or {name, options} for non-default options"
    )

    @field_validator("datasets", mode="before")
    @classmethod
    def _names_as_parts(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"name": part} if isinstance(part, str) else part for part in value]
        return value


def mix(name: str, parts: list[Dataset]) -> Dataset:
    """``parts`` as one dataset called ``name``; timestamps and behaviours are kept only if every part has them."""
    if len({part.name for part in parts}) < len(parts):
        raise DataError(f"{name}: a dataset appears twice among {[part.name for part in parts]}")
    items, sequences, users, offset = [], [], [], 0
    for part in parts:
        frame = part.items.copy()
        frame["item_id"] = part.name + ":" + frame["item_id"].astype(str)
        items.append(frame)
        sequences += [seq + offset for seq in part.sequences]
        users += [f"{part.name}:{user}" for user in part.user_ids]
        offset += part.n_items
    fields = list(dict.fromkeys(field for part in parts for field in part.text_fields))

    def joined(events: list[list[np.ndarray] | None]) -> list[np.ndarray] | None:
        return None if any(e is None for e in events) else [seq for e in events for seq in e or []]

    return Dataset(
        name=name,
        items=pd.concat(items, ignore_index=True),
        user_ids=users,
        sequences=sequences,
        text_fields=fields,
        timestamps=joined([part.timestamps for part in parts]),
        behaviours=joined([part.behaviours for part in parts]),
    )


def load(name: str, options: MixedOptions, data_dir: Path | None) -> Dataset:
    from agenticrec.data.registry import load_dataset  # the registry lists this loader, so it is imported late

    return mix(name, [load_dataset(part.name, part.options, data_dir) for part in options.datasets])
