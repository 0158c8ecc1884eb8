"""Picking one of several options, by constrained generation or by scoring each option as the answer.

The mode is set per role (`llm.roles.<role>.choice`):

* generate: the model writes `{"choice": "<option>"}`, constrained to the options (`one_of`).
* score: every option's tokens are scored as the start of the answer, normalised by length (mean log-prob
  per token); the best one wins. Nothing is generated, so a weak model cannot copy text or ramble, and
  every option gets a score.
* calibrated: contextual calibration (Zhao et al., 2021): the same options are also scored after a
  content-free request (the same prompt with the item text replaced by "N/A") and those scores are
  subtracted, which removes the model's prior for, e.g., the first-listed or the shortest option. Identical
  content-free requests are scored once, over the union of their options (users whose candidate lists differ).

Scores are cached in the ledger like any call. A backend that cannot score falls back to generate.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, create_model

from agenticrec.llm.calls import LLMResult, OptionScore, Request
from agenticrec.llm.config import ChoiceMode, LLMConfig
from agenticrec.llm.errors import ScoringUnsupported
from agenticrec.llm.structured import one_of


class Answers(Protocol):
    """What choosing needs of a client (`LLMClient`): its config, option scores and constrained answers."""

    config: LLMConfig

    def score(
        self, role: str, requests: Sequence[Request], options: Sequence[Sequence[str]], *, progress: bool | None = None
    ) -> list[LLMResult]: ...

    def batch(
        self,
        role: str,
        requests: Sequence[Request],
        output_model: type[BaseModel] | None = None,
        *,
        progress: bool | None = None,
    ) -> list[LLMResult]: ...


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChoiceResult:
    """The option picked for one request."""

    index: int | None  # position of the chosen option; None when the call failed
    scores: list[float] | None  # per option, what the pick was based on (None when generated)
    cached: bool  # answered from the ledger, at no cost
    mode: ChoiceMode  # the mode actually used
    error: str | None = None
    # per option, the model's probability of the whole option as the answer, renormalised over the options
    # (softmax of the summed log-probs; calibrated: each divided by its content-free probability); None when generated
    probabilities: list[float] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def share(self) -> float | None:
        """How sure the model is of the pick: its probability among the options (None when generated)."""
        if self.index is None or self.probabilities is None:
            return None
        return self.probabilities[self.index]


def choose(
    client: Answers,
    role: str,
    requests: Sequence[Request],
    options: Sequence[Sequence[str]],
    *,
    content_free: Sequence[Request] | None = None,
    progress: bool | None = None,
) -> list[ChoiceResult]:
    """One of `options[i]` for each `requests[i]`, the way role `role` is configured to choose.

    `content_free[i]` is `requests[i]` with the item's text replaced by "N/A"; the calibrated mode needs it.
    """
    if len(options) != len(requests):
        raise ValueError(f"{len(requests)} requests but {len(options)} option lists")
    for opts in options:
        if not opts or len(set(opts)) != len(opts):
            raise ValueError(f"options must be non-empty and distinct, got {list(opts)}")
    mode = client.config.role(role).choice
    if mode == "calibrated" and (content_free is None or len(content_free) != len(requests)):
        raise ValueError(f"role {role!r} chooses by calibrated scores: give one content-free request per request")
    if mode != "generate":
        try:
            return _by_score(
                client, role, requests, options, content_free if mode == "calibrated" else None, mode, progress
            )
        except ScoringUnsupported as err:
            log.warning("LLM role %r: %s; choosing by constrained generation instead", role, err)
    return _by_generation(client, role, requests, options, progress)


def _by_score(
    client: Answers,
    role: str,
    requests: Sequence[Request],
    options: Sequence[Sequence[str]],
    content_free: Sequence[Request] | None,
    mode: ChoiceMode,
    progress: bool | None,
) -> list[ChoiceResult]:
    pooled = _pooled(content_free, options) if content_free is not None else None
    keys, calls, call_options = zip(*_interleaved(requests, options, pooled), strict=True)
    results = dict(zip(keys, client.score(role, calls, call_options, progress=progress), strict=True))
    picks = []
    for i in range(len(requests)):
        result, base, prior = results["request", i], None, None
        if pooled is not None:
            base = results["content-free", pooled.of[i]]
            at = pooled.position[pooled.of[i]]
            prior = [base.value[at[option]] for option in options[i]] if base.value is not None else None
        cached = result.cached and (base is None or base.cached)
        found: list[OptionScore] | None = result.value
        if found is None or (base is not None and prior is None):
            failed = result.error or (base.error if base is not None else None)
            picks.append(ChoiceResult(None, None, cached, mode, failed))
            continue
        scores = [s.mean for s in found]
        logprobs = [s.logprob for s in found]
        if prior is not None:
            scores = [s - p.mean for s, p in zip(scores, prior, strict=True)]
            logprobs = [s - p.logprob for s, p in zip(logprobs, prior, strict=True)]
        picks.append(ChoiceResult(scores.index(max(scores)), scores, cached, mode, probabilities=_softmax(logprobs)))
    return picks


def _softmax(logprobs: list[float]) -> list[float]:
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    return [w / sum(weights) for w in weights]


@dataclass(frozen=True)
class _Pooled:
    """Content-free requests scored once each: ``requests`` (distinct), the union of their ``options``, where each
    option sits (``position``), and which pooled request stands for each original one (``of``)."""

    requests: list[Request]
    options: list[list[str]]
    position: list[dict[str, int]]
    of: list[int]


def _interleaved(
    requests: Sequence[Request], options: Sequence[Sequence[str]], pooled: _Pooled | None
) -> list[tuple[tuple[str, int], Request, Sequence[str]]]:
    """The calls in the order they are sent, each keyed ``("request", i)`` or ``("content-free", j)``: a pooled
    content-free request right after the first request it serves. It shares that request's prefix up to the item
    (or user) text, so the engine evaluates only the rest while the prefix is still in its slot."""
    calls: list[tuple[tuple[str, int], Request, Sequence[str]]] = []
    sent: set[int] = set()
    for i, (request, opts) in enumerate(zip(requests, options, strict=True)):
        calls.append((("request", i), request, opts))
        if pooled is not None and (j := pooled.of[i]) not in sent:
            sent.add(j)
            calls.append((("content-free", j), pooled.requests[j], pooled.options[j]))
    return calls


def _pooled(content_free: Sequence[Request], options: Sequence[Sequence[str]]) -> _Pooled:
    """Pool identical content-free requests. An option's score depends only on the request and the option (each is
    its own continuation of the prompt), so one call over the union of the options serves every request that
    shares the content-free prompt, e.g. all users of a stage whose candidate lists differ."""
    index: dict[str, int] = {}
    pooled = _Pooled([], [], [], [])
    for request, opts in zip(content_free, options, strict=True):
        key = json.dumps(request, sort_keys=True)
        if key not in index:
            index[key] = len(pooled.requests)
            pooled.requests.append(request)
            pooled.options.append([])
            pooled.position.append({})
        j = index[key]
        for option in opts:
            if option not in pooled.position[j]:
                pooled.position[j][option] = len(pooled.options[j])
                pooled.options[j].append(option)
        pooled.of.append(j)
    return pooled


def _by_generation(
    client: Answers,
    role: str,
    requests: Sequence[Request],
    options: Sequence[Sequence[str]],
    progress: bool | None,
) -> list[ChoiceResult]:
    by_options: dict[tuple[str, ...], list[int]] = {}
    for i, opts in enumerate(options):
        by_options.setdefault(tuple(opts), []).append(i)
    picks: list[ChoiceResult | None] = [None] * len(requests)
    for opts, idxs in by_options.items():
        answer = create_model("Choice", choice=(one_of(opts), ...))
        for i, result in zip(
            idxs, client.batch(role, [requests[i] for i in idxs], answer, progress=progress), strict=True
        ):
            index = opts.index(result.value.choice) if result.value is not None else None
            picks[i] = ChoiceResult(index, None, result.cached, "generate", result.error)
    return picks  # type: ignore[return-value]
