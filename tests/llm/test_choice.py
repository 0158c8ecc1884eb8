"""`LLMClient.choose`: picking options by scores (raw and calibrated), by generation, and from the ledger."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

from agenticrec.llm import (
    LLMClient,
    LLMConfig,
    RequestRejected,
    ScoringUnsupported,
    chat,
    quote_data,
    register_role,
)
from agenticrec.llm.stats import run_stats

PICKER = register_role("test_picker", "Test role: picks one of several options in tests/llm/test_choice.py.")
OPTIONS = ["Face", "Body", "Hair"]
SYSTEM = "Which part of the body is the product for? Answer with one of: Face, Body, Hair."


def config(mode: str, scorer: Callable | None = None, script: Callable | None = None) -> LLMConfig:
    backend = {"kind": "scripted", "script": script or (lambda m, s: "unused"), "scorer": scorer}
    return LLMConfig.model_validate(
        {
            "backends": {"script": backend},
            "roles": {PICKER: {"backend": "script", "choice": mode}},
            "retry": {"max_attempts": 2, "base_delay_s": 0.0, "max_delay_s": 0.0},
            "progress": False,
        }
    )


def request(text: str) -> list[dict[str, str]]:
    return chat(SYSTEM, quote_data(text, "product"))


FREE = request("N/A")


def prior_scorer(calls: list[str] | None = None) -> Callable:
    """A model with a strong prior for the first-listed option; the product text adds evidence for its option."""

    def scorer(messages, options):
        text = messages[-1]["content"]
        if calls is not None:
            calls.append(text)
        prior = [0.0] + [-2.0] * (len(options) - 1)
        return [p + (1.0 if f"for the {o.lower()}" in text else 0.0) for p, o in zip(prior, options, strict=True)]

    return scorer


def test_score_mode_picks_the_best_mean_log_prob_per_token():
    def scorer(messages, options):
        return [-3.0, -4.5, -2.5]

    options = ["Face", "Body wash gel", "Hair"]  # one, three and one "tokens" (scripted: one per word)
    with LLMClient(config("score", scorer)) as client:
        [pick] = client.choose(PICKER, [request("a lotion")], [options])
    assert pick.ok and pick.mode == "score" and not pick.cached
    assert pick.scores == [-3.0, -1.5, -2.5]  # summed log-probs divided by the option's tokens
    assert pick.index == 1


def test_calibration_removes_a_first_option_prior():
    requests = [request("a cream for the body"), request("a mask for the face"), request("a gel for the hair")]
    content_free = [FREE] * len(requests)
    with LLMClient(config("score", prior_scorer())) as client:
        raw = client.choose(PICKER, requests, [OPTIONS] * 3, content_free=content_free)
    with LLMClient(config("calibrated", prior_scorer())) as client:
        calibrated = client.choose(PICKER, requests, [OPTIONS] * 3, content_free=content_free)
    assert [p.index for p in raw] == [0, 0, 0]  # the prior wins every time
    assert [p.index for p in calibrated] == [1, 0, 2]
    assert calibrated[0].scores == [0.0, 1.0, 0.0] and calibrated[0].mode == "calibrated"
    e = math.e  # the probabilities are calibrated too: divided by the content-free ones, then renormalised
    assert calibrated[0].probabilities == pytest.approx([1 / (2 + e), e / (2 + e), 1 / (2 + e)])


def test_scores_are_cached_in_the_ledger(tmp_path):
    calls: list[str] = []
    requests = [request("a cream for the body"), request("a gel for the hair")]
    with LLMClient(config("calibrated", prior_scorer(calls)), tmp_path) as client:
        first = client.choose(PICKER, requests, [OPTIONS] * 2, content_free=[FREE] * 2)
    assert len(calls) == 3  # two requests and one shared content-free request
    with LLMClient(config("calibrated", prior_scorer(calls)), tmp_path) as client:
        again = client.choose(PICKER, requests, [OPTIONS] * 2, content_free=[FREE] * 2)
    assert len(calls) == 3 and all(p.cached for p in again)
    assert [p.scores for p in again] == [p.scores for p in first]
    [stats] = run_stats(tmp_path)
    assert stats.role == PICKER and stats.calls == 3 and stats.cache_hits == 3  # the rerun; the shared one asked once


def test_one_content_free_call_serves_requests_with_different_options(tmp_path):
    def scorer(messages, options):  # each option's score depends on the request and the option alone
        calls.append((messages[-1]["content"], list(options)))
        text = messages[-1]["content"]
        return [(1.0 if f"for the {o.lower()}" in text else 0.0) - 0.1 * len(o) for o in options]

    calls: list[tuple[str, list[str]]] = []
    requests = [request("a cream for the body"), request("a gel for the hair")]
    options = [["Face", "Body"], ["Hair", "Nails", "Face"]]
    with LLMClient(config("calibrated", scorer), tmp_path) as client:
        pooled = client.choose(PICKER, requests, options, content_free=[FREE, FREE])
    assert len(calls) == 3 and calls[1][1] == ["Face", "Body", "Hair", "Nails"]  # the union, scored once
    calls.clear()
    with LLMClient(config("calibrated", scorer)) as client:  # each request calibrated on its own options
        alone = [client.choose(PICKER, [r], [o], content_free=[FREE])[0] for r, o in zip(requests, options)]
    assert [p.scores for p in pooled] == [p.scores for p in alone] and [p.index for p in pooled] == [1, 0]


def test_each_content_free_request_follows_the_first_request_it_serves():
    def scorer(messages, options):
        calls.append(messages[-1]["content"])
        return [0.0] * len(options)

    calls: list[str] = []
    texts = ["a cream for the body", "a gel for the hair", "a comb for the hair"]
    frees = [request("N/A for the body"), request("N/A for the hair"), request("N/A for the hair")]
    with LLMClient(config("calibrated", scorer)) as client:  # shared prefixes stay in the engine's slot
        client.choose(PICKER, [request(t) for t in texts], [OPTIONS] * 3, content_free=frees)
    shown = [*texts, "N/A for the body", "N/A for the hair"]
    assert [next(t for t in shown if t in c) for c in calls] == [
        texts[0], "N/A for the body", texts[1], "N/A for the hair", texts[2]
    ]  # fmt: skip


def test_scores_record_options_and_mode_in_the_ledger(tmp_path):
    with LLMClient(config("score", prior_scorer()), tmp_path) as client:
        client.choose(PICKER, [request("a gel for the hair")], [OPTIONS])
        [record] = client.ledger.records()
    assert record.request["options"] == OPTIONS and record.request["mode"] == "score"
    assert json.loads(record.response) == [[0.0, 1], [-2.0, 1], [-1.0, 1]]


def test_backend_without_scores_falls_back_to_constrained_generation():
    schemas = []

    def script(messages, schema):
        schemas.append(schema)
        return json.dumps({"choice": "Hair"})

    with LLMClient(config("calibrated", scorer=None, script=script)) as client:
        picks = client.choose(
            PICKER, [request("a gel"), request("a comb")], [OPTIONS, ["Hair", "Nails"]], content_free=[FREE, FREE]
        )
    assert [(p.index, p.mode, p.scores) for p in picks] == [(2, "generate", None), (0, "generate", None)]
    assert sorted(s["properties"]["choice"]["enum"] for s in schemas) == [OPTIONS, ["Hair", "Nails"]]


def test_generate_mode_never_scores():
    def scorer(messages, options):
        raise AssertionError("generate mode must not score")

    with LLMClient(config("generate", scorer, lambda m, s: '{"choice": "Body"}')) as client:
        [pick] = client.choose(PICKER, [request("soap")], [OPTIONS])
    assert pick.index == 1 and pick.mode == "generate"


def test_a_rejected_request_fails_alone():
    def scorer(messages, options):
        if "broken" in messages[-1]["content"]:
            raise RequestRejected("HTTP 400: too long")
        return [0.0, -1.0, -2.0]

    with LLMClient(config("score", scorer)) as client:
        bad, good = client.choose(PICKER, [request("broken"), request("fine")], [OPTIONS] * 2)
    assert bad.index is None and not bad.ok and "too long" in bad.error
    assert good.index == 0 and good.ok


def test_calibrated_mode_needs_content_free_requests_and_options_must_be_distinct():
    with LLMClient(config("calibrated", prior_scorer())) as client:
        with pytest.raises(ValueError, match="content-free"):
            client.choose(PICKER, [request("x")], [OPTIONS])
        with pytest.raises(ValueError, match="distinct"):
            client.choose(PICKER, [request("x")], [["Face", "Face"]], content_free=[FREE])


@pytest.mark.slow
def test_smollm2_scores_are_finite_and_the_obvious_option_wins(tmp_path):
    cfg = LLMConfig.model_validate({"roles": {PICKER: {"choice": "score"}}, "progress": False})
    messages = chat("Answer with the name of the colour only.", "What colour is a ripe banana?")
    options = ["Yellow", "Purple", "Dark green with blue stripes"]
    with LLMClient(cfg, tmp_path) as client:
        [pick] = client.choose(PICKER, [messages], [options])
        [scores] = client.score(PICKER, [messages], [options])
    assert pick.ok and all(math.isfinite(s) for s in pick.scores)
    assert pick.index == 0
    assert scores.value[0].tokens >= 2  # the option's token(s) plus the end-of-turn token
    assert scores.cached and pick.scores == [s.mean for s in scores.value]


def test_openai_compatible_backend_cannot_score_and_says_so(fake_server):
    server = fake_server()
    cfg = LLMConfig.model_validate(
        {
            "backends": {"fake": {"kind": "openai", "base_url": server.url, "model": "fake-model"}},
            "roles": {PICKER: {"backend": "fake", "choice": "score"}},
            "progress": False,
        }
    )
    with LLMClient(cfg) as client, pytest.raises(ScoringUnsupported, match="constrained generation"):
        client.score(PICKER, [request("soap")], [OPTIONS])
    assert server.requests == 0


def test_a_scored_pick_says_how_sure_it_is_and_a_generated_one_does_not():
    """The share is the pick's probability as the whole answer among the options (summed log-probs), while the pick
    goes by the mean per token: the three-"token" option wins by its mean but is not the likeliest answer."""
    logprobs = [-1.0, -1.5, -2.0]
    with LLMClient(config("score", lambda messages, options: logprobs)) as client:
        [scored] = client.choose(PICKER, [request("a lotion")], [["Face", "Body wash gel", "Hair"]])
    weights = [math.exp(lp) for lp in logprobs]
    assert scored.index == 1 and scored.probabilities == pytest.approx([w / sum(weights) for w in weights])
    assert scored.share == pytest.approx(0.307, abs=1e-3)
    with LLMClient(config("generate", script=lambda messages, schema: json.dumps({"choice": "Hair"}))) as client:
        [generated] = client.choose(PICKER, [request("a gel")], [OPTIONS])
    assert generated.index == 2 and generated.share is None
