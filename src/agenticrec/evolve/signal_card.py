"""The LaMAR signal choice as an agent: the text-based model's item text from the base fields alone or with one of
the LLM-generated item signals (the tables ``augment generate`` writes), as a card the evolve stage reads. The card
keeps the text-based model's other decisions, so a study weighs the signal against the adapter."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import yaml

from agenticrec.errors import ConfigError
from agenticrec.evolve.card import AgentCard, load_card
from agenticrec.evolve.space import Param
from agenticrec.io import atomic_write_text

BASE_CARD = "textseq"
FIELDS = "fields"  # the base card's decision over the item text fields


def signal_columns(table: Path) -> list[str]:
    """The signal columns of an item-field table (every column but ``item_id``)."""
    if not table.is_file():
        raise ConfigError(f"signal table {table} does not exist (write one with `agenticrec augment generate`)")
    try:
        names = pq.read_schema(table).names
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise ConfigError(f"{table} is not a Parquet table: {err}") from None
    if "item_id" not in names or len(names) < 2:
        raise ConfigError(f"{table} needs an item_id column and at least one signal column, has {names}")
    return [name for name in names if name != "item_id"]


def signal_card(tables: list[Path], fields: list[str] | None = None) -> AgentCard:
    """The text-based model's card whose field decision is ``fields`` (default: the card's default fields) alone or
    with one signal of ``tables``; the tables join the catalogue in every trial."""
    if not tables:
        raise ConfigError("a signal card needs at least one signal table")
    card = load_card(BASE_CARD)
    base_fields = fields or _fields(str(card.space.params[FIELDS].default))
    signals = [column for table in tables for column in signal_columns(table)]
    if clash := sorted({s for s in signals if signals.count(s) > 1 or s in base_fields}):
        raise ConfigError(f"signal column(s) {', '.join(clash)} appear twice (tables or base fields)")
    choices = [_value(base_fields), *(_value([*base_fields, s]) for s in signals)]
    space = dict(card.space.params) | {FIELDS: Param(key="data.text_fields", kind="choice", choices=choices,
                                                     default=choices[0])}  # fmt: skip
    tables_override = f"data.item_fields=[{','.join(str(t.resolve()) for t in tables)}]"
    return card.model_copy(
        update={
            "name": "lamar-signal",
            "description": f"LaMAR's signal choice: {card.description} The item text is {_value(base_fields)} "
            f"alone or with one LLM-generated signal ({', '.join(signals)}).",
            "base": [*card.base, tables_override],
            "space": card.space.model_copy(update={"params": space}),
        }
    )


def write_card(card: AgentCard, path: Path) -> None:
    """``card`` as YAML in the shape ``load_card`` reads."""
    raw = card.model_dump(exclude={"space"})
    raw["space"] = {name: p.model_dump(exclude_defaults=True) | {"default": p.default}
                    for name, p in card.space.params.items()}  # fmt: skip
    atomic_write_text(path, yaml.safe_dump(raw, sort_keys=False, width=120))


def _fields(value: str) -> list[str]:
    return [f.strip() for f in value.strip("[]").split(",") if f.strip()]


def _value(fields: list[str]) -> str:
    return f"[{','.join(fields)}]"
