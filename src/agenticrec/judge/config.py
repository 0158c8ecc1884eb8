"""The ``judge:`` section: the LLM judge of generated interests, tags and explanations."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from agenticrec.config import Section
from agenticrec.llm import register_role

JUDGE = register_role("judge", "RecGPT judge: answers yes or no to one quality criterion of a generated text.")


class JudgeConfig(Section):
    cases_per_criterion: int = Field(
        80,
        ge=2,
        description="constructed set: cases per criterion, half real outputs and half controlled defects (80 leaves "
        "20 of each in the development half that the calibration on labels needs)",
    )
    max_chars: int = Field(600, ge=50, description="item and history text in a judge prompt is cut to this length")
    calibration_run: Path | None = Field(
        None,
        description="explain build: a run whose judged cases (`judge run`) calibrate the judge of explanations; "
        "default this run, when it has them",
    )
