"""Ask the judge (role ``judge``) one yes/no question per case, by option scoring where the backend offers it."""

from __future__ import annotations

from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.config import JUDGE
from agenticrec.judge.criteria import CRITERIA
from agenticrec.llm import LLMClient, chat, load_prompt, quote_data

ANSWERS = ["yes", "no"]


def _request(case: JudgeCase, max_chars: int, blank: bool) -> list[dict[str, str]]:
    criterion = CRITERIA[case.criterion]
    system = load_prompt(__file__, "prompts/judge.md").render(task=criterion.task, question=criterion.question)
    return chat(system, quote_data(case.text(max_chars, blank), "case"))


def judge(client: LLMClient, cases: list[JudgeCase], max_chars: int) -> list[bool | None]:
    """True = passes, False = fails, None = the call failed."""
    unknown = sorted({c.criterion for c in cases} - set(CRITERIA))
    if unknown:
        raise ValueError(f"unknown judge criteria {unknown}; known: {sorted(CRITERIA)}")
    picks = client.choose(
        JUDGE,
        [_request(c, max_chars, blank=False) for c in cases],
        [ANSWERS] * len(cases),
        content_free=[_request(c, max_chars, blank=True) for c in cases],
    )
    return [None if p.index is None else p.index == 0 for p in picks]
