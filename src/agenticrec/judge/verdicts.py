"""Ask the judge (role ``judge``) one yes/no question per case, by option scoring where the backend offers it, and
read its log-odds of "yes" for the calibration on labels (`calibration`)."""

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


def _check(cases: list[JudgeCase]) -> None:
    unknown = sorted({c.criterion for c in cases} - set(CRITERIA))
    if unknown:
        raise ValueError(f"unknown judge criteria {unknown}; known: {sorted(CRITERIA)}")


def judge(client: LLMClient, cases: list[JudgeCase], max_chars: int) -> list[bool | None]:
    """True = passes, False = fails, None = the call failed."""
    _check(cases)
    picks = client.choose(
        JUDGE,
        [_request(c, max_chars, blank=False) for c in cases],
        [ANSWERS] * len(cases),
        content_free=[_request(c, max_chars, blank=True) for c in cases],
    )
    return [None if p.index is None else p.index == 0 for p in picks]


def log_odds(client: LLMClient, cases: list[JudgeCase], max_chars: int) -> list[tuple[float, float] | None]:
    """Per case, the judge's log-odds of "yes" over "no" (mean log-prob per token) for the case and for its
    content-free version; None where a call failed. Raises `ScoringUnsupported` when the backend cannot score."""
    _check(cases)
    requests = [_request(c, max_chars, blank=blank) for blank in (False, True) for c in cases]
    results = client.score(JUDGE, requests, [ANSWERS] * len(requests))
    odds = [None if r.value is None else r.value[0].mean - r.value[1].mean for r in results]
    n = len(cases)
    return [None if a is None or b is None else (a, b) for a, b in zip(odds[:n], odds[n:], strict=True)]
