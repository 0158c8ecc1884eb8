"""Agent cards: what an agent is (its description and role), how it acts (base run overrides plus its decisions),
its inner reward, what it feeds, and its decision space. Shipped cards live in ``cards/``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from agenticrec.errors import ConfigError
from agenticrec.evolve.space import Space

CARDS = Path(__file__).parent / "cards"


class AgentCard(BaseModel):
    name: str
    description: str
    role: Literal["retriever", "fusion", "routing"]
    feeds: list[str] = Field(default_factory=list)
    base: list[str] = Field(default_factory=list, description="run overrides every trial starts from")
    inner_reward: str = Field("ndcg@10", description="the validation metric this agent maximises")
    space: Space

    def overrides(self, config: dict[str, object]) -> list[str]:
        return [*self.base, *self.space.overrides(config)]  # type: ignore[arg-type]


def shipped_cards() -> list[str]:
    return sorted(path.stem for path in CARDS.glob("*.yaml"))


def load_card(name_or_path: str | Path) -> AgentCard:
    """A shipped card by name, or a card YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CARDS / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown agent card {name_or_path!r}; shipped: {', '.join(shipped_cards())}")
    if not path.is_file():
        raise ConfigError(f"agent card {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
        return AgentCard.model_validate({**raw, "space": {"params": raw.get("space", {})}})
    except ValidationError as err:
        raise ConfigError(f"invalid agent card {path}: {'; '.join(_problem(e) for e in err.errors())}") from None
    except (yaml.YAMLError, AttributeError, TypeError) as err:
        raise ConfigError(f"invalid agent card {path}: {err}") from None


def _problem(error: ErrorDetails) -> str:
    """One validation error in the card's words: ``decision depth: a range needs low <= high``."""
    loc = [str(part) for part in error["loc"]]
    where = f"decision {'.'.join(loc[2:])}" if loc[:2] == ["space", "params"] and len(loc) > 2 else ".".join(loc)
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
