"""Batches sharded over Ray actors (local Ray, 2 actors, the fake server): the same answers and ledger as the local
executor, and no finished call paid twice or row lost when an actor or the driver is killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import llm_testkit
import pytest
from llm_testkit import Echo, expected, http_config

from agenticrec.augment.config import SIGNAL_WRITER
from agenticrec.llm import LLMClient, LLMConfig, LLMError
from agenticrec.llm.ledger import Ledger
from agenticrec.llm.ray_executor import shard_ledgers

ray = pytest.importorskip("ray")
ray.cloudpickle.register_pickle_by_value(llm_testkit)  # the actors cannot import the tests' output model
pytestmark = pytest.mark.slow
CONCURRENCY = 8


def on_ray(url: str, **executor: object) -> LLMConfig:
    """All roles on the fake server, one of them a stage's role that the actors never import."""
    config = http_config(url, max_concurrency=CONCURRENCY)
    return LLMConfig.model_validate(
        config.model_dump(mode="json")
        | {"roles": {SIGNAL_WRITER: {"temperature": 0.0}}, "executor": {"kind": "ray", **executor}}
    )


def texts(n: int) -> list[str]:
    return [f"item {i} " + "x" * (i % 7) for i in range(n)]


def ledger_rows(run_dir: Path) -> list[tuple]:
    return sorted((r.key, r.status, r.response) for r in Ledger(run_dir / "llm.sqlite").records())


def paid_twice(server) -> int:
    return sum(count - 1 for count in server.served.values())


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_ray_answers_and_ledger_equal_the_local_executors(tmp_path, fake_server):
    server = fake_server(latency_s=0.02)
    requests = [*texts(300), "item 3 "]  # a duplicate is sent once
    with LLMClient(http_config(server.url), tmp_path / "local") as client:
        local = client.batch("annotator", requests, Echo)
    with LLMClient(on_ray(server.url, actors=2, chunk=50), tmp_path / "ray") as client:
        sharded = client.batch("annotator", requests, Echo)
        assert [r.value for r in sharded] == [r.value for r in local] == [expected(t) for t in requests]
        assert shard_ledgers(tmp_path / "ray", "llm.sqlite") == []  # merged into the run's ledger
        served = server.requests
        again = client.batch("annotator", requests, Echo)  # a rerun pays nothing
        assert server.requests == served and all(r.cached for r in again)
    assert [row[:2] for row in ledger_rows(tmp_path / "ray")] == [row[:2] for row in ledger_rows(tmp_path / "local")]
    assert [row[2] for row in ledger_rows(tmp_path / "ray")] == [row[2] for row in ledger_rows(tmp_path / "local")]


def test_a_killed_actor_is_restarted_and_pays_no_finished_call_twice(tmp_path, fake_server):
    server = fake_server(latency_s=0.05)
    requests = texts(400)
    with LLMClient(on_ray(server.url, actors=2, chunk=40), tmp_path) as client:
        killed_at: list[int] = []

        def kill_an_actor() -> None:
            while server.requests < 120:
                time.sleep(0.01)
            ray.kill(client._ray.actors[0], no_restart=False)  # a crash: Ray restarts it and retries its task
            killed_at.append(server.requests)

        killer = threading.Thread(target=kill_an_actor)
        killer.start()
        results = client.batch("annotator", requests, Echo)
        killer.join()
    assert killed_at[0] < len(requests)  # mid-batch
    assert [r.value for r in results] == [expected(t) for t in requests]  # no row lost
    assert len(ledger_rows(tmp_path)) == 400
    # only calls in flight at the kill were sent again: at most one actor's concurrency
    assert paid_twice(server) <= CONCURRENCY


DRIVER = """
import sys
import agenticrec.augment.config  # registers the role the config names
from agenticrec.llm import LLMClient, LLMConfig
config = LLMConfig.model_validate_json(sys.argv[1])
with LLMClient(config, sys.argv[2]) as client:
    client.batch("annotator", [f"item {i} " + "x" * (i % 7) for i in range(400)])
"""


def test_a_killed_driver_is_rerun_and_pays_no_finished_call_twice(tmp_path, fake_server):
    server = fake_server(latency_s=0.05)
    config = on_ray(server.url, actors=2, chunk=40, address=ray.get_runtime_context().gcs_address)
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, config.model_dump_json(), str(tmp_path)],
                              start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while server.requests < 150 and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    assert 0 < sum(server.served.values()) < 400  # mid-batch
    assert shard_ledgers(tmp_path, "llm.sqlite"), "the killed driver left its actors' shard ledgers"
    time.sleep(1.0)  # its actors die with it
    with LLMClient(config, tmp_path) as client:
        results = client.batch("annotator", texts(400))
    assert all(r.ok for r in results) and len(ledger_rows(tmp_path)) == 400
    assert paid_twice(server) <= 2 * CONCURRENCY  # the calls in flight in both actors at the kill


def test_actors_that_all_fail_stop_the_batch_with_the_first_error(tmp_path):
    config = on_ray("http://127.0.0.1:9/v1", actors=2)  # nothing listens on port 9
    config = config.model_copy(update={"retry": config.retry.model_copy(update={"max_attempts": 1})})
    with LLMClient(config, tmp_path) as client, pytest.raises(LLMError, match=r"on Ray: .*127\.0\.0\.1:9"):
        client.batch("annotator", texts(10))


def test_without_ray_or_with_an_unreachable_address_the_error_names_the_setting(tmp_path, monkeypatch, fake_server):
    server = fake_server()
    config = on_ray(server.url, address="127.0.0.1:1")
    ray.shutdown()
    try:
        with LLMClient(config, tmp_path) as client, pytest.raises(LLMError, match=r"llm\.executor\.address=127"):
            client.batch("annotator", texts(2))
        monkeypatch.setitem(sys.modules, "ray", None)
        with LLMClient(config, tmp_path) as client, pytest.raises(LLMError, match=r"pip install 'agenticrec\[ray\]'"):
            client.batch("annotator", texts(2))
    finally:
        monkeypatch.undo()
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
