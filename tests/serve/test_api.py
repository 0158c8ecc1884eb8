"""The HTTP API over tiny trained runs: rankings, critique, problem bodies that name the parameter, keyed writes
and idempotent events, the page without JavaScript, health and metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from serve_testkit import KEY

from agenticrec.errors import AgenticRecError
from agenticrec.evolve.compose import Routing, system_from_record
from agenticrec.evolve.composition import COMPOSE
from agenticrec.pipeline import load_run
from agenticrec.serve import Catalogue, ServeSettings, create_app


def test_a_known_users_list_leaves_out_their_history(client: TestClient, app):
    body = client.get("/v1/users/u3/recommendations", params={"k": 5}).json()
    catalogue = app.state.catalogue
    seen = {catalogue.dataset.items["item_id"].iloc[i - 1] for i in catalogue.history("u3")}
    assert body["model"] == "composed" and len(body["items"]) == 5  # the default is the composition
    assert [row["rank"] for row in body["items"]] == [1, 2, 3, 4, 5]
    assert not seen & {row["item_id"] for row in body["items"]}
    scores = [row["score"] for row in body["items"]]
    assert scores == sorted(scores, reverse=True)
    with_seen = client.get("/v1/users/u3/recommendations", params={"k": 24, "exclude_seen": False}).json()
    assert seen <= {row["item_id"] for row in with_seen["items"]}


@pytest.mark.parametrize("model", ["generative", "sasrec", "popularity", "composed"])
def test_critique_keeps_only_items_under_the_chosen_descriptor(client: TestClient, model: str):
    body = client.get("/v1/users/u1/recommendations", params={"model": model, "allow": "Coffee", "k": 5}).json()
    assert body["items"] and all(row["descriptor_path"][0] == "Coffee" for row in body["items"])
    by_token = client.get("/v1/users/u1/recommendations", params={"model": model, "allow": "Shop > Tea"}).json()
    assert all(row["descriptor_path"][0] == "Tea" for row in by_token["items"])


def test_a_composition_serves_its_recorded_system_over_its_agents(client: TestClient, served_runs):
    record = json.loads((served_runs / "composed" / COMPOSE).read_text())
    system = system_from_record(record["system"])
    runs = {name: load_run(served_runs / name) for name in system.agents}
    catalogue = client.app.state.catalogue
    history = catalogue.history("u3")
    scores = {name: run.model.score_batched([history]) for name, run in runs.items()}
    counts = runs[system.agents[0]].counts
    fused = system.apply(scores, [history], counts) if isinstance(system, Routing) else system.apply(scores)
    fused[0, history] = -np.inf
    expected = list(np.argsort(-fused[0], kind="stable")[:5])
    body = client.get("/v1/users/u3/recommendations", params={"k": 5, "model": "composed"}).json()
    assert [catalogue.item_index(row["item_id"]) for row in body["items"]] == expected
    listed = {m["name"]: m for m in client.get("/v1/models").json()}
    assert listed["composed"]["model"] == "composition" and listed["composed"]["default"]
    assert listed["composed"]["test_ndcg10"] == record["composed_test_ndcg10"]


def test_an_anonymous_session_and_similar_items(client: TestClient):
    body = client.post("/v1/sessions/recommendations", json={"items": ["i17", "i18"], "k": 3}).json()
    assert len(body["items"]) == 3 and body["user_id"] is None
    assert {"i17", "i18"}.isdisjoint(row["item_id"] for row in body["items"])
    similar = client.get("/v1/items/i2/similar", params={"k": 4, "model": "generative"}).json()
    assert "i2" not in [row["item_id"] for row in similar["items"]] and len(similar["items"]) == 4
    item = client.get("/v1/items/i2").json()
    assert item["descriptor_path"] == ["Tea", "Green"] and item["fields"]["title"] == "Green tea 1"


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "parameter"),
    [
        ("get", "/v1/users/nobody/recommendations", None, 404, "user_id"),
        ("get", "/v1/users/u1/recommendations?k=0", None, 422, "k"),
        ("get", "/v1/users/u1/recommendations?k=many", None, 422, "k"),
        ("get", "/v1/users/u1/recommendations?model=bert4rec", None, 404, "model"),
        ("get", "/v1/users/u1/recommendations?allow=Juice", None, 422, "allow"),
        ("get", "/v1/items/nope", None, 404, "item_id"),
        ("get", "/v1/explanations?user_id=u1", None, 422, "item_id"),
        ("post", "/v1/sessions/recommendations", {"items": ["i1", "nope"]}, 404, "items.1"),
        ("post", "/v1/sessions/recommendations", {"items": []}, 422, "items"),
        ("post", "/v1/sessions/recommendations", {"items": ["i1"], "k": 101}, 422, "k"),
        ("get", "/v1/items/" + "x" * 201, None, 422, "item_id"),
        ("get", "/v1/users/" + "u" * 201 + "/recommendations", None, 422, "user_id"),
    ],
)
def test_bad_input_gets_a_problem_body_naming_the_parameter(client, method, url, payload, status, parameter):
    response = client.request(method, url, json=payload)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    named = [body.get("parameter")] + [e["parameter"] for e in body.get("errors", [])]
    assert parameter in named and body["status"] == status and body["detail"]


def event(key: str = "e1", item: str = "i2", type: str = "like") -> dict[str, str]:
    return {"user_id": "u1", "item_id": item, "type": type, "idempotency_key": key}


def test_a_wrong_method_names_the_allowed_ones_and_bad_json_names_the_body(client: TestClient):
    wrong = client.delete("/v1/items/i1")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    broken = client.post(
        "/v1/sessions/recommendations", content=b'{"items": [', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and [e["parameter"] for e in broken.json()["errors"]] == ["body"]


def test_the_vocabulary_is_found_in_the_tagger_runs_folder(tmp_path):
    from types import SimpleNamespace

    from agenticrec.serve.catalogue import _vocabulary
    from agenticrec.tagger import artifacts
    from agenticrec.tagger.vocabulary import Vocabulary

    tagger_run = tmp_path / "tagger-run"
    artifacts.tagger_dir(tagger_run).mkdir(parents=True)
    Vocabulary(dataset="shop", n_items=3).save(artifacts.tagger_dir(tagger_run) / artifacts.VOCABULARY)
    run = SimpleNamespace(config=SimpleNamespace(semantic_ids=SimpleNamespace(tagger_run=tagger_run)))
    found = _vocabulary([run], SimpleNamespace(method="descriptors"))
    assert found is not None and found.dataset == "shop"


def test_writes_need_the_right_key_and_a_retry_stores_nothing_twice(client: TestClient, app):
    assert client.post("/v1/events", json=event()).status_code == 401
    assert client.post("/v1/events", json=event(), headers={"X-API-Key": KEY + "x"}).status_code == 403
    assert app.state.events.count() == 0
    first = client.post("/v1/events", json=event(), headers={"X-API-Key": KEY})
    retry = client.post("/v1/events", json=event(), headers={"X-API-Key": KEY})
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    reused = client.post("/v1/events", json=event(type="dislike"), headers={"X-API-Key": KEY})
    assert reused.status_code == 409 and reused.json()["parameter"] == "idempotency_key"
    unknown = client.post("/v1/events", json=event("e2", item="nope"), headers={"X-API-Key": KEY})
    assert unknown.status_code == 404
    for bad, parameter in (
        ({"user_id": "u1\x07"}, "user_id"),
        ({"colour": "red"}, "colour"),
        ({"user_id": "zz"}, "user_id"),
    ):
        refused = client.post("/v1/events", json=event("e3") | bad, headers={"X-API-Key": KEY})
        assert refused.status_code in (404, 422) and parameter in json.dumps(refused.json()), bad
    [stored] = app.state.events.events()
    assert (stored.user_id, stored.item_id, stored.type) == ("u1", "i2", "like")
    newcomer = client.post(
        "/v1/events", json=event("e4") | {"user_id": "zz", "new_user": True}, headers={"X-API-Key": KEY}
    )
    assert newcomer.status_code == 201 and app.state.events.count() == 2


def test_without_keys_writes_are_off_and_keyed_reads_need_one(served_runs, tmp_path):
    catalogue = Catalogue.load([served_runs])
    with TestClient(create_app(catalogue, ServeSettings(events_path=tmp_path / "a.sqlite"))) as open_server:
        refused = open_server.post("/v1/events", json=event(), headers={"X-API-Key": KEY})
        assert refused.status_code == 403 and "AGENTICREC_API_KEYS" in refused.json()["detail"]
    settings = ServeSettings(api_keys=[KEY], keyed_reads=True, events_path=tmp_path / "b.sqlite")
    with TestClient(create_app(catalogue, settings)) as keyed:
        assert keyed.get("/v1/items/i1").status_code == 401
        assert keyed.get("/v1/items/i1", headers={"X-API-Key": KEY}).status_code == 200
        page = keyed.get("/", params={"user": "u1"})  # the page shows a user's history: it needs the key too
        assert page.status_code == 401 and page.headers["www-authenticate"].startswith("Basic")
        assert keyed.get("/", params={"user": "u1"}, auth=("me", KEY + "x")).status_code == 403
        assert keyed.get("/", params={"user": "u1"}, auth=("me", KEY)).status_code == 200


def test_the_page_works_without_javascript(client: TestClient, app):
    page = client.get("/", params={"user": "u1"})
    assert page.status_code == 200 and 'id="recommendations"' in page.text and "Coffee" in page.text
    coffee = client.get("/", params={"user": "u1", "allow": "Shop > Coffee"})
    listed = coffee.text.split('id="recommendations"')[1]
    assert listed.count("data-path=") >= 1 and listed.count('data-path="Coffee') == listed.count("data-path=")
    sent = {"user_id": "u1", "item_id": "i20", "nonce": "n1", "api_key": KEY}
    saved = client.post("/feedback", data=sent, follow_redirects=False)
    again = client.post("/feedback", data=sent, follow_redirects=False)  # the same form sent twice
    assert saved.status_code == again.status_code == 303 and "saved" in saved.headers["location"]
    assert len(app.state.events.events()) == 1
    refused = client.post("/feedback", data={**sent, "nonce": "n2", "api_key": "wrong"})
    assert refused.status_code == 403 and len(app.state.events.events()) == 1
    assert client.get("/", params={"user": "nobody"}).status_code == 404


def test_health_and_metrics(client: TestClient):
    assert client.get("/healthz").json()["models"] == ["generative", "popularity", "sasrec", "composed"]
    client.get("/v1/items/i1")
    metrics = client.get("/metrics").text
    assert 'agenticrec_requests_total{method="GET",route="/v1/items/{item_id}",status="200"} 1.0' in metrics


def test_a_folder_without_runs_is_refused(tmp_path):
    with pytest.raises(AgenticRecError, match="no trained run"):
        Catalogue.load([tmp_path])


def test_a_composition_is_served_alone_and_refused_without_its_agents(served_runs, tmp_path):
    alone = Catalogue.load([served_runs / "composed"])
    assert list(alone.models) == ["composed"] and alone.dataset.n_items == 24
    record = json.loads((served_runs / "composed" / COMPOSE).read_text())
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / COMPOSE).write_text(json.dumps(record | {"agents": {a: str(tmp_path / a) for a in record["agents"]}}))
    with pytest.raises(AgenticRecError, match="agent runs not found"):
        Catalogue.load([moved])
    with pytest.raises(AgenticRecError, match="a composition of runs"):
        load_run(served_runs / "composed")  # e.g. `agenticrec recommend` pointed at it


def test_allowed_mask_drops_the_history(app):
    mask = app.state.catalogue.allowed(np.array([1, 2]), [])
    assert not mask[[0, 1, 2]].any() and mask[3:].all()


def test_the_openapi_document_declares_the_error_answers(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                declared = {code: list(answer.get("content", {})) for code, answer in operation["responses"].items()}
                for code in ("401", "403", "404", "422"):
                    assert declared[code] == ["application/problem+json"], (method, path, code)
    assert "409" in paths["/v1/events"]["post"]["responses"]


def test_the_docs_page_loads_nothing_from_elsewhere(client: TestClient):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    script = client.get("/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000


def test_served_events_join_the_next_training_run(client: TestClient, app, served_runs, tmp_path):
    from typer.testing import CliRunner

    from agenticrec.cli import app as cli

    posts = [("u1", "i3", "like"), ("u1", "i4", "dislike"), ("u1", "i5", "view"), ("passer-by", "i1", "view")]
    posts += [("newcomer", item, "like") for item in ("i2", "i6", "i7")]
    for n, (user, item, kind) in enumerate(posts):
        body = {**event(f"k{n}", item, kind), "user_id": user, "new_user": user != "u1"}
        assert client.post("/v1/events", json=body, headers={"X-API-Key": KEY}).status_code == 201
    before = load_run(served_runs / "popularity").dataset
    retrained = tmp_path / "retrained"
    args = ["train", "-c", str(served_runs / "popularity" / "config.yaml"), "--run-dir", str(retrained),
            "--with-events", str(app.state.settings.events_path)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    after = load_run(retrained).dataset
    u1 = before.user_ids.index("u1")
    assert after.item_ids()[0] == before.item_ids()[0] and after.n_users == before.n_users + 1
    appended = [after.item_ids()[i - 1] for i in after.sequences[u1][len(before.sequences[u1]) :]]
    assert appended == ["i3", "i5"]  # the like and the view, in time order; the dislike is no interaction
    assert [after.item_ids()[i - 1] for i in after.sequences[after.user_ids.index("newcomer")]] == ["i2", "i6", "i7"]
    assert "passer-by" not in after.user_ids  # one event cannot be split into train, validation and test
