"""The augment stage's files in a run directory (``RUN_DIR/augment/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agenticrec.errors import AgenticRecError

PROPOSALS = "proposals.json"  # every proposal, kept or dropped as a near-duplicate
SIGNAL = "signal.parquet"  # item_id and the signal's column: the kept values (select with data.item_fields)
VALUES = "values.parquet"  # every generated value with its check, kept or dropped
GENERATION = "generation.json"
DIVERSITY = "diversity.json"
DIVERSITY_PLOT = "diversity.png"
RANKER = "ranker.json"  # the LLM ranker and the baselines on the same candidate sets
RANKS = "ranks.parquet"  # the true item's rank per user and method
WRITTEN_BY = {PROPOSALS: "augment propose", VALUES: "augment generate"}


def augment_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "augment"


def require(run_dir: Path, name: str) -> Path:
    path = augment_dir(run_dir) / name
    if not path.is_file():
        raise AgenticRecError(f"no {name} at {path}; run `agenticrec {WRITTEN_BY.get(name, 'augment propose')}` first")
    return path


def read_json(run_dir: Path, name: str) -> Any:
    return json.loads(require(run_dir, name).read_text())
