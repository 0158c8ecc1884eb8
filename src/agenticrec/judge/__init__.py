"""The LLM judge: yes/no verdicts per quality criterion, and their agreement with known or human labels."""

from agenticrec.judge.agreement import agreement
from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.criteria import CRITERIA
from agenticrec.judge.verdicts import judge

__all__ = ["CRITERIA", "JudgeCase", "agreement", "judge"]
