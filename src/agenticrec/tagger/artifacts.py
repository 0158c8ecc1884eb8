"""Where the tagger's artifacts live inside a run directory, and how they are read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from agenticrec.errors import AgenticRecError

VOCABULARY = "vocabulary.json"
BUILD_LOG = "build_log.jsonl"  # every split, initial proposal, cycle, change proposal and decision
BUILD_SUMMARY = "build_summary.json"
BUILD_MEMBERS = "build_members.json"  # descriptor id -> ids of the items annotated into it while building
ASSIGNMENTS = (
    "assignments.parquet"  # item_id, item_index, descriptor_ids, descriptor_names, sources, resolver, semantic_id
)
ASSIGN_SUMMARY = "assign_summary.json"
KEYWORDS = "keywords.parquet"  # item_id, keywords
KEYWORDS_SUMMARY = "keywords_summary.json"
AUDIT_SUMMARY = "audit.json"  # the LLM judge's precision and recall of "fits"
REPORT = "report.html"


def tagger_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "tagger"


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise AgenticRecError(f"missing {path}")
    return json.loads(path.read_text())


def read_build_log(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise AgenticRecError(f"missing {path}; run `agenticrec tag build` first")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_assignments(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise AgenticRecError(f"missing {path}; run `agenticrec tag assign` first")
    return pd.read_parquet(path)
