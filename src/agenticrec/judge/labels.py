"""Human labels of judge cases, kept in SQLite (``RUN_DIR/judge/labels.sqlite``) so labelling can stop and resume."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from agenticrec.judge.cases import JudgeCase


def case_key(case: JudgeCase) -> str:
    """Stable id of a case: its criterion and what the judge sees."""
    payload = json.dumps([case.criterion, list(case.fields.items())], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class LabelStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS labels (case_key TEXT PRIMARY KEY, criterion TEXT NOT NULL, "
            "passes INTEGER NOT NULL, labeller TEXT NOT NULL, labelled_at REAL NOT NULL)"
        )

    def put(self, case: JudgeCase, passes: bool, labeller: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?, ?)",
                (case_key(case), case.criterion, int(passes), labeller, time.time()),
            )

    def labels(self) -> dict[str, bool]:
        """Case key -> the person's label (the latest one)."""
        return {key: bool(passes) for key, passes in self.db.execute("SELECT case_key, passes FROM labels")}

    def close(self) -> None:
        self.db.close()
