"""A stage's files inside a run directory (``RUN_DIR/<folder>/``): where they live, reads that name the command to
run when a file is missing, and tables written whole or not at all."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_path


@dataclass(frozen=True)
class StageFiles:
    """The files of one system's stages: ``written_by`` maps a file name to the command that writes it, and
    ``first`` is the command to run for a file it does not name."""

    folder: str
    first: str
    written_by: Mapping[str, str] = field(default_factory=dict)

    def dir(self, run_dir: Path) -> Path:
        return Path(run_dir) / self.folder

    def require(self, run_dir: Path, name: str) -> Path:
        """The path of an input file; an error naming the command that writes it when it is missing."""
        path = self.dir(run_dir) / name
        if not path.is_file():
            raise AgenticRecError(
                f"no {name} at {path}; run `agenticrec {self.written_by.get(name, self.first)}` first"
            )
        return path

    def read_json(self, run_dir: Path, name: str) -> Any:
        return json.loads(self.require(run_dir, name).read_text())

    def read_jsonl(self, run_dir: Path, name: str) -> list[dict[str, Any]]:
        lines = self.require(run_dir, name).read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def read_table(self, run_dir: Path, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.require(run_dir, name))

    def write_table(self, run_dir: Path, name: str, table: pd.DataFrame) -> Path:
        path = self.dir(run_dir) / name
        with atomic_path(path) as tmp:
            table.to_parquet(tmp, index=False)
        return path
