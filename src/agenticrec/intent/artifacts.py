"""The intent stage's files in a run directory (``RUN_DIR/intent/``) and how they are read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_path

HISTORIES = "histories.parquet"  # sampled users: target, token counts, the compressed lines the prompts show
COMPRESSION = "compression.json"
INTERESTS = "interests.parquet"  # user, rank, name, rationale, evidence (item ids), repaired
MINING = "mining.json"
TAGS = "tags.parquet"  # user, rank, tag
TAGGING = "tags.json"
EVALUATION = "evaluation.json"  # HR@K of the LLM tags and the baselines
REPORT = "report.html"
EXPLANATIONS = "explanations.parquet"  # interest, item, explanation, checks, and the vectors the lookup uses
EXPLAINING = "explanations.json"
ITEM_TAGS = "item_tags.parquet"  # item_id, tags, source (llm, or category where the LLM gave none): TAR's tags
ITEM_TAGGING = "item_tags.json"
CANDIDATE_SCORES = "candidate_scores.parquet"  # cutoff, user, candidate, logprob, content_free
SCORING = "scoring.json"
HYBRID = "hybrid.json"  # HR@K of each prior, the LLM score and the hybrids fitted on validation
SIMULATED_PLOT = "simulated_curve.png"  # the hybrid's HR@K against a simulated LLM's accuracy
CURATED = "curated.jsonl"  # judge-filtered (history, tag, interest, rationale) training samples

WRITTEN_BY = {
    HISTORIES: "intent compress",
    INTERESTS: "intent mine",
    TAGS: "intent tags",
    EXPLANATIONS: "explain build",
    ITEM_TAGS: "intent item-tags",
    CANDIDATE_SCORES: "intent score",
}


def intent_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "intent"


def require(run_dir: Path, name: str) -> Path:
    """The path of an input artifact; an error naming the command that writes it when it is missing."""
    path = intent_dir(run_dir) / name
    if not path.is_file():
        raise AgenticRecError(f"no {name} at {path}; run `agenticrec {WRITTEN_BY.get(name, 'intent compress')}` first")
    return path


def read_table(run_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(require(run_dir, name))


def read_json(run_dir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads(require(run_dir, name).read_text()))


def write_table(run_dir: Path, name: str, table: pd.DataFrame) -> Path:
    path = intent_dir(run_dir) / name
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
    return path
