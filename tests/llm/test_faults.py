"""The OpenAI-compatible backend against a server that injects every fault kind."""

from __future__ import annotations

import socket

import pytest
from llm_testkit import Echo, expected, http_config

from agenticrec.llm import LLMClient, LLMError
from agenticrec.llm.stats import run_stats
from agenticrec.testing.fake_server import FAULT_KINDS, FaultPlan

N = 500


def test_batch_with_every_fault_kind_ends_like_a_fault_free_run(fake_server, tmp_path):
    requests = [f"item {i}: a product description" for i in range(N)]

    clean = fake_server()
    with LLMClient(http_config(clean.url), tmp_path / "clean") as client:
        reference = client.batch("annotator", requests, Echo)
    assert clean.injected.total() == 0

    faulty = fake_server(faults=FaultPlan(share=0.5, slow_s=3.0, seed=7))
    with LLMClient(http_config(faulty.url), tmp_path / "faulty") as client:
        results = client.batch("annotator", requests, Echo, concurrency=32)

    assert set(faulty.injected) == set(FAULT_KINDS)  # every kind was really injected
    assert all(r.ok for r in results)
    assert [r.value for r in results] == [r.value for r in reference]
    assert [r.value for r in results] == [expected(t) for t in requests]
    # each request's retries match the faults it met, and nothing was asked more often than needed
    plan = faulty.faults
    for text, r in zip(requests, results, strict=True):
        assert r.attempts == len(plan.faults_for(text)) + 1
        assert len(r.errors) == len(plan.faults_for(text))
    assert faulty.requests == sum(len(plan.faults_for(t)) + 1 for t in requests)

    [stats] = run_stats(tmp_path / "faulty")
    assert (stats.calls, stats.failed, stats.cache_hits) == (N, 0, 0)
    assert stats.retries == faulty.injected.total()

    # a re-run answers everything from the ledger
    before = faulty.requests
    with LLMClient(http_config(faulty.url), tmp_path / "faulty") as client:
        again = client.batch("annotator", requests, Echo)
    assert faulty.requests == before
    assert all(r.cached for r in again) and [r.value for r in again] == [r.value for r in results]
    assert run_stats(tmp_path / "faulty")[0].cache_hits == N


def test_server_rejecting_json_schema_falls_back_to_json_object(fake_server):
    server = fake_server(reject_json_schema=True)
    requests = [f"question {i}" for i in range(10)]
    with LLMClient(http_config(server.url)) as client:
        results = client.batch("judge", requests, Echo, concurrency=1)
    assert [r.value for r in results] == [expected(t) for t in requests]
    assert server.response_formats == {"json_schema": 1, "json_object": 10}


def test_text_mode_sends_no_response_format(fake_server):
    server = fake_server()
    with LLMClient(http_config(server.url, response_format="text")) as client:
        result = client.call("judge", "hello", Echo)
    assert result.value == expected("hello")
    assert server.response_formats == {"text": 1}


def test_unreachable_server_gives_one_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nobody listens there
    with (
        LLMClient(http_config(f"http://127.0.0.1:{port}/v1")) as client,
        pytest.raises(LLMError, match=rf"at http://127.0.0.1:{port}/v1 is unreachable"),
    ):
        client.batch("annotator", [f"q{i}" for i in range(1000)], Echo)


def test_requests_per_minute_limit_still_completes(fake_server):
    server = fake_server()
    cfg = http_config(server.url, requests_per_minute=6000, tokens_per_minute=1_000_000)
    with LLMClient(cfg) as client:
        results = client.batch("annotator", [f"r{i}" for i in range(20)], Echo)
    assert [r.value for r in results] == [expected(f"r{i}") for i in range(20)]


@pytest.mark.parametrize("failure", ["closed port", "wrong key"])
def test_a_failed_first_check_closes_the_http_session(fake_server, monkeypatch, caplog, failure):
    """aiohttp reports a session that was never closed with a ResourceWarning and an asyncio log line."""
    import gc
    import warnings

    if failure == "wrong key":
        monkeypatch.setenv("FAKE_KEY", "wrong")
        cfg = http_config(fake_server(api_key="right").url, api_key_env="FAKE_KEY")
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = http_config(f"http://127.0.0.1:{port}/v1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with LLMClient(cfg) as client, pytest.raises(LLMError):
            client.batch("annotator", ["q"], Echo)
        del client
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert "Unclosed" not in caplog.text


def test_cut_off_answers_are_asked_again_with_a_larger_budget_not_repaired(fake_server, tmp_path):
    """A model that answers a repair prompt differently (as real ones do): with cut-offs at a 50% fault rate,
    the run must still end with exactly the fault-free answers, so nothing downstream diverges."""
    from agenticrec.testing.fake_server import echo_answer

    def answer(body):
        repaired = len(body["messages"]) > 1
        return '{"echo": "repaired", "label": "odd"}' if repaired else echo_answer(body)

    requests = [f"item {i}: a product description" for i in range(100)]
    clean = fake_server(answer=answer)
    with LLMClient(http_config(clean.url), tmp_path / "clean") as client:
        reference = [r.value for r in client.batch("annotator", requests, Echo)]
    cut = fake_server(answer=answer, faults=FaultPlan(share=0.5, kinds=("truncated_json",), seed=3))
    with LLMClient(http_config(cut.url), tmp_path / "cut") as client:
        results = client.batch("annotator", requests, Echo)
    assert cut.injected["truncated_json"] > 20
    assert [r.value for r in results] == reference
    assert all("repaired" not in r.value.echo for r in results if r.value is not None)


def test_cut_off_text_answers_are_asked_again_never_stored_as_complete(fake_server, tmp_path):
    """Plain-text answers cut by the server (finish_reason length) at a 50% fault rate end identical to the
    fault-free run; a text still cut off at the budget cap fails instead of passing for the answer."""
    requests = [f"item {i}: a product description" for i in range(60)]
    clean = fake_server()
    with LLMClient(http_config(clean.url), tmp_path / "clean") as client:
        reference = [r.value for r in client.batch("signal_writer", requests)]
    cut = fake_server(faults=FaultPlan(share=0.5, kinds=("truncated_json",), seed=4))
    with LLMClient(http_config(cut.url), tmp_path / "cut") as client:
        results = client.batch("signal_writer", requests)
    assert cut.injected["truncated_json"] > 15
    assert [r.value for r in results] == reference
    thrice = fake_server(faults=FaultPlan(share=1.0, max_per_request=3, kinds=("truncated_json",), seed=4))
    with LLMClient(http_config(thrice.url), tmp_path / "thrice") as client:
        capped = client.batch("signal_writer", requests, params={"max_tokens": 32})
    failed = [r for r in capped if not r.ok]
    assert failed and all("cut off at max_tokens 128" in (r.error or "") for r in failed)  # 32, 64, then 128
    assert [r.value for r in capped if r.ok] == [v for v, r in zip(reference, capped, strict=True) if r.ok]
