"""Judge cases: one generated output, the context it is judged in, and (where known) its true label."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass
class JudgeCase:
    criterion: str  # a key of CRITERIA, e.g. "tag.not_title"
    fields: dict[str, str]  # what the judge sees, e.g. {"history": ..., "tag": ...}, in display order
    label: bool | None = None  # True = passes; None = unknown
    source: str = "real"  # "real" output, or the name of the controlled defect built into it
    user: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    def text(self, max_chars: int, blank: bool = False) -> str:
        """The case as the judge reads it; ``blank`` replaces every value by N/A (the content-free input)."""
        return "\n".join(f"{k}: {'N/A' if blank else v[:max_chars]}" for k, v in self.fields.items())


def to_frame(cases: list[JudgeCase]) -> pd.DataFrame:
    rows = [asdict(c) | {"fields": list(c.fields.items()), "meta": list(c.meta.items())} for c in cases]
    return pd.DataFrame(rows, columns=["criterion", "fields", "label", "source", "user", "meta"])


def from_frame(frame: pd.DataFrame) -> list[JudgeCase]:
    return [
        JudgeCase(
            row.criterion,
            {str(k): str(v) for k, v in row.fields},
            None if pd.isna(row.label) else bool(row.label),
            row.source,
            row.user,
            {str(k): str(v) for k, v in row.meta},
        )
        for row in frame.itertuples()
    ]
