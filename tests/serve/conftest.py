"""Fixtures of the serving tests: the tiny runs (trained once per session) and a composition of two of them, an app
over them, and its client."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_testkit import KEY, MODELS, write_shop

from agenticrec.evolve.composition import compose_agents
from agenticrec.pipeline import load_config, train_and_evaluate
from agenticrec.serve import Catalogue, ServeSettings, create_app
from agenticrec.serve.settings import load_keys


@pytest.fixture(scope="session")
def served_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("served")
    data = write_shop(root)
    for name, settings in MODELS.items():
        train_and_evaluate(load_config(None, [*data, *settings, "train.batch_size=32", f"run_dir={root / name}"]))
    composed = load_config(None, [*data, "evolve.fusion_steps=4", f"run_dir={root / 'composed'}"])
    compose_agents(composed, {"popularity": root / "popularity", "sasrec": root / "sasrec"})
    return root


@pytest.fixture
def app(served_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTICREC_API_KEYS", KEY)
    settings = ServeSettings(api_keys=load_keys(), events_path=tmp_path / "events.sqlite")
    return create_app(Catalogue.load([served_runs]), settings)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app) as test_client:
        yield test_client
