"""A run directory belongs to one dataset and one config: the shared stage check refuses a directory built from
other inputs, writes config.yaml only when a stage succeeds, and checks the LLM before any work."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from agenticrec.augment.generate import run_generate
from agenticrec.data.events import SCHEMA
from agenticrec.errors import AgenticRecError
from agenticrec.llm.errors import LLMError
from agenticrec.pipeline import RunConfig, load_config, stage_run
from agenticrec.pipeline.provenance import PROVENANCE, STAGES, flatten, read_provenance
from agenticrec.testing.catalogues import files_catalogue


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    raise AssertionError("no stage in these tests may reach the LLM")


SCRIPTED = {"backends": {"script": {"kind": "scripted", "script": script}}, "default": {"backend": "script"},
            "progress": False}  # fmt: skip


def catalogue(folder: Path, shop: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    items = pd.DataFrame({"item_id": [f"{shop}{k}" for k in range(6)], "title": [f"{shop} item {k}" for k in range(6)]})
    events = [(f"u{u}", f"{shop}{(u + s) % 6}") for u in range(4) for s in range(3)]
    return files_catalogue(folder, items, events)


@pytest.fixture
def shops(tmp_path: Path) -> dict[str, list[str]]:
    return {shop: catalogue(tmp_path / shop, shop) for shop in ("pens", "lamps")}


def config(run_dir: Path, data: list[str], *overrides: str, llm: dict[str, Any] | None = None) -> RunConfig:
    loaded = load_config(None, [*data, f"run_dir={run_dir}", *overrides])
    return loaded.model_copy(update={"llm": loaded.llm.model_validate(llm or SCRIPTED)})


def refused(cfg: RunConfig, stage: str, match: str, error: type[Exception] = AgenticRecError) -> None:
    """The stage is refused with ``error`` matching ``match`` before its body runs."""
    with pytest.raises(error, match=match), stage_run(cfg, stage):
        raise AssertionError("refused before the stage runs")


def write(run_dir: Path, path: str, text: str) -> None:
    (run_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (run_dir / path).write_text(text)


def test_a_stage_refuses_a_run_directory_of_another_dataset(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "intent compress"):
        write(run_dir, "intent/histories.parquet", "pens")
    for stage in ("intent mine", "augment propose"):
        refused(
            config(run_dir, shops["lamps"]),
            stage,
            r"built from files with data\.options\.\w+=\"\S*/pens/\S*\", not \"\S*/lamps/",
        )
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["data"]["options"]["items"].endswith("pens/items.csv")


def test_the_same_dataset_with_other_content_is_refused_too(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "augment propose"):
        write(run_dir, "augment/proposals.json", "[]")
    items = tmp_path / "pens" / "items.csv"
    items.write_text(items.read_text().replace("pens item 3", "pens item three"))
    refused(config(run_dir, shops["pens"]), "augment generate", "built from files with other content")


def test_a_record_made_before_an_option_existed_matches_it_left_unset(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "augment propose"):
        write(run_dir, "augment/proposals.json", "[]")
    record = json.loads((run_dir / PROVENANCE).read_text())
    del record["dataset"]["options"]["events"]  # as an older agenticrec wrote it
    (run_dir / PROVENANCE).write_text(json.dumps(record))
    with stage_run(config(run_dir, shops["pens"]), "augment generate"):
        pass
    events = tmp_path / "events.sqlite"
    with sqlite3.connect(events) as store:
        store.execute(SCHEMA)
    refused(
        config(run_dir, shops["pens"], f"data.events={events}"),
        "augment generate",
        r"data\.events=null, not \"\S*events\.sqlite\"",
    )


def test_a_key_that_shaped_an_upstream_artifact_cannot_change_downstream(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"], "intent.users=30"), "intent compress"):
        write(run_dir, "intent/histories.parquet", "30 users")
    users_10 = config(run_dir, shops["pens"], "intent.users=10")
    refused(users_10, "intent mine", r"intent\.users is 10 here, but 30 shaped what `agenticrec intent compress`")
    with stage_run(config(run_dir, shops["pens"], "intent.users=30", "intent.max_interests=5"), "intent mine"):
        write(run_dir, "intent/interests.parquet", "mined")
    # rebuilding the histories would leave the mined interests stale
    users_10 = config(run_dir, shops["pens"], "intent.users=10", "intent.max_interests=5")
    refused(users_10, "intent compress", r"intent\.users is 10 here.*`agenticrec intent mine`")
    with stage_run(config(run_dir, shops["pens"], "intent.users=30", "intent.max_interests=6"), "intent mine"):
        pass  # a stage may rebuild its own artifacts with other settings of its own keys
    assert read_provenance(run_dir).stages["intent mine"].config["intent.max_interests"] == 6


def test_a_changed_upstream_artifact_is_refused(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "augment propose"):
        write(run_dir, "augment/proposals.json", '[{"kept": true}]')
    write(run_dir, "augment/proposals.json", '[{"kept": false}]')
    refused(config(run_dir, shops["pens"]), "augment generate", r"augment/proposals\.json changed after `agenticrec")


def test_a_failing_set_leaves_config_yaml_unchanged(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "augment propose"):
        proposal = {"name": "Writing Feel", "definition": "d", "examples": [], "kept": True}
        write(run_dir, "augment/proposals.json", json.dumps([proposal]))
    before = (run_dir / "config.yaml").read_text()
    bad = config(run_dir, shops["pens"], "augment.signal=5")
    with pytest.raises(AgenticRecError, match="signal"), stage_run(bad, "augment generate") as run:
        run_generate(run.dataset, bad.augment, run.llm, run_dir, bad.seed)
    assert (run_dir / "config.yaml").read_text() == before
    assert "augment generate" not in read_provenance(run_dir).stages


def test_a_refused_stage_in_a_new_directory_creates_nothing(tmp_path, shops):
    run_dir = tmp_path / "run"
    refused(config(run_dir, shops["pens"]), "intent mine", "run `agenticrec intent compress` first")
    keyless = {"backends": {"api": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                                    "api_key_env": "AGENTICREC_TEST_UNSET_KEY"}},
               "default": {"backend": "api"}}  # fmt: skip
    refused(config(run_dir, shops["pens"], llm=keyless), "augment propose", "AGENTICREC_TEST_UNSET_KEY", LLMError)
    assert not run_dir.exists()


def test_the_command_line_refuses_with_one_line_and_exit_2(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "intent compress"):
        write(run_dir, "intent/histories.parquet", "pens")
    sets = [arg for override in shops["lamps"] for arg in ("--set", override)]
    done = subprocess.run([sys.executable, "-m", "agenticrec", "intent", "mine", "--run-dir", str(run_dir), *sets],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "built from files with data.options." in done.stderr and "--fresh" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_fresh_starts_the_directory_over_and_keeps_the_ledger(tmp_path, shops):
    run_dir = tmp_path / "run"
    with stage_run(config(run_dir, shops["pens"]), "augment propose"):
        write(run_dir, "augment/proposals.json", "[]")
        write(run_dir, "llm.sqlite", "ledger")
    with stage_run(config(run_dir, shops["lamps"]), "augment propose", fresh=True):
        pass
    assert (run_dir / "llm.sqlite").read_text() == "ledger"
    assert not (run_dir / "augment" / "proposals.json").exists()
    assert read_provenance(run_dir).dataset["options"]["options"]["items"].endswith("lamps/items.csv")


def test_evolve_with_the_key_unset_fails_before_trial_0(tmp_path, shops):
    from agenticrec.evolve.stage import run_evolution

    keyless = {"backends": {"api": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                                    "api_key_env": "AGENTICREC_TEST_UNSET_KEY"}},
               "default": {"backend": "api"}}  # fmt: skip
    run_dir = tmp_path / "evolve"
    cfg = config(run_dir, shops["pens"], "evolve.method=llm", "evolve.trials=2", llm=keyless)
    with pytest.raises(LLMError, match="AGENTICREC_TEST_UNSET_KEY"):
        run_evolution(cfg)
    assert not run_dir.exists()


# ---- the invariant under random command sequences ------------------------------------------------------------

KEYS = {  # one shaping key per stage, and two values for it
    "intent compress": ("intent.users", [5, 6]),
    "intent mine": ("intent.max_interests", [5, 6]),
    "augment propose": ("augment.sample_items", [5, 6]),
    "augment generate": ("augment.words", [10, 11]),
}


def describes_its_artifacts(run_dir: Path) -> None:
    """config.yaml agrees with every key that shaped a recorded stage, and every recorded file is as written."""
    record = read_provenance(run_dir)
    if record is None:
        return
    written = flatten(yaml.safe_load((run_dir / "config.yaml").read_text()))
    assert written["data.options.items"] == record.dataset["options"]["options"]["items"]
    for name, stage in record.stages.items():
        assert {k: written.get(k) for k in stage.config} == stage.config, name
        for path in stage.files:
            assert (run_dir / path).is_file(), (name, path)


@pytest.mark.parametrize("seed", range(6))
def test_config_yaml_describes_the_artifacts_after_any_command_sequence(tmp_path, shops, seed):
    rng = random.Random(seed)
    run_dir = tmp_path / "run"
    for _ in range(12):
        stage = rng.choice(list(KEYS))
        settings = [f"{key}={rng.choice(values)}" for key, values in KEYS.values()]
        cfg = config(run_dir, shops[rng.choice(["pens", "pens", "lamps"])], *settings)
        fail = rng.random() < 0.3
        try:
            with stage_run(cfg, stage, fresh=rng.random() < 0.1):
                write(run_dir, f"{stage.replace(' ', '/')}.json", json.dumps(settings))
                if fail:
                    raise RuntimeError("the stage failed half way")
        except (AgenticRecError, RuntimeError):
            pass
        describes_its_artifacts(run_dir)
    assert set(STAGES) >= set(KEYS)
    assert (run_dir / PROVENANCE).exists() or not (run_dir / "config.yaml").exists()
