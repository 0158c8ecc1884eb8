"""Individual evolution on a toy agent: the space rejects proposals outside it with reasons, seeded random search
reproduces itself, every method starts from the default, and the LLM proposer's proposals are enqueued."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evolve_testkit import TOY, fake_trial, toy_reward
from pydantic import ValidationError

from agenticrec.evolve import load_card, shipped_cards
from agenticrec.evolve import study as study_module
from agenticrec.evolve.proposer import proposal_model
from agenticrec.evolve.stage import report
from agenticrec.llm import LLMClient
from agenticrec.pipeline import load_config


def test_the_space_names_every_reason_a_config_is_outside_it():
    space = TOY.space
    assert space.problems(space.default()) == []
    problems = space.problems({"loss": "hinge", "layers": 9, "lr": "fast", "depth": 2})
    assert "depth: not a decision of this agent" in problems
    assert any(p.startswith("loss: 'hinge' is not one of") for p in problems)
    assert "layers: 9 is outside [1.0, 4.0]" in problems and "lr: 'fast' is not a number" in problems
    # a conditional decision is required only when active
    assert space.problems({"loss": "sampled_softmax", "layers": 2, "lr": 0.001}) == [
        "negatives: missing (one of [64, 256], default 64, only when {'loss': 'sampled_softmax'})"
    ]
    assert space.overrides({"loss": "ce", "layers": 2}) == ["model.loss=ce", "model.num_layers=2"]


def test_an_llm_proposal_outside_the_space_is_rejected_with_the_reason():
    model = proposal_model(TOY.space)
    ok = model.model_validate({"rationale": "ce scored best", "loss": "ce", "layers": 2, "lr": 0.003})
    assert ok.loss == "ce"
    with pytest.raises(ValidationError, match=r"layers: 7 is outside \[1.0, 4.0\]"):
        model.model_validate({"rationale": "deeper", "loss": "ce", "layers": 7, "lr": 0.003})
    with pytest.raises(ValidationError, match="negatives: missing"):
        model.model_validate({"rationale": "sampled", "loss": "sampled_softmax", "layers": 2, "lr": 0.003})
    tried = [{"number": 4, "params": {"loss": "ce", "layers": 2, "lr": 0.003}}]
    with pytest.raises(ValidationError, match="trial 4 already tried this configuration"):
        proposal_model(TOY.space, tried).model_validate({"rationale": "again", "loss": "ce", "layers": 2, "lr": 0.003})


def test_a_space_of_choices_has_a_grid_that_respects_conditions():
    fusion = load_card("fusion").space
    assert fusion.grid() == [
        {"method": "weighted", "normalisation": "minmax"},
        {"method": "weighted", "normalisation": "zscore"},
        {"method": "weighted", "normalisation": "rank"},
        {"method": "rrf"},
    ]
    with pytest.raises(ValueError, match="layers, lr are ranges"):
        TOY.space.grid()


def test_every_shipped_card_loads_and_its_default_is_in_its_space():
    assert {"sasrec", "generative", "tar", "textseq", "semantic-id-features", "fusion", "routing"} <= set(
        shipped_cards()
    )
    for name in shipped_cards():
        card = load_card(name)
        assert card.space.problems(card.space.default()) == []
        rng = np.random.default_rng(0)
        points = [card.space.sample(rng) for _ in range(20)]
        assert all(card.space.problems(point) == [] for point in points)
        if card.role == "retriever":  # every decision is a valid run config
            for point in [card.space.default(), *points]:
                load_config(None, card.overrides(point))


def config_for(tmp_path: Path, method: str, trials: int = 8, seed: int = 0):
    config = load_config(None, [f"run_dir={tmp_path}", f"evolve.method={method}", f"evolve.trials={trials}",
                                f"seed={seed}", "evolve.llm_proposals=3"])  # fmt: skip
    return config


@pytest.fixture(autouse=True)
def toy_trials(monkeypatch):
    monkeypatch.setattr(study_module, "run_trial", fake_trial)


def params_of(study) -> list[dict]:
    return [t.params for t in study.trials]


def test_seeded_random_search_reproduces_and_starts_from_the_default(tmp_path):
    first = study_module.evolve_agent(config_for(tmp_path / "a", "random"), TOY, progress=False)
    again = study_module.evolve_agent(config_for(tmp_path / "b", "random"), TOY, progress=False)
    other = study_module.evolve_agent(config_for(tmp_path / "c", "random", seed=1), TOY, progress=False)
    assert params_of(first) == params_of(again) != params_of(other)
    assert first.trials[0].params == TOY.space.default() and len(first.trials) == 8
    assert all(TOY.space.problems(p) == [] for p in params_of(first))


def test_tpe_finds_a_better_config_than_the_default(tmp_path):
    study = study_module.evolve_agent(config_for(tmp_path, "tpe", trials=25), TOY, progress=False)
    assert study.trials[0].params == TOY.space.default()
    assert study.best_value > toy_reward(TOY.space.default()) + 0.02


def scripted_llm(config, proposals: list[dict]):
    def script(messages, schema):
        return json.dumps(proposals.pop(0))

    config.llm = config.llm.model_validate(
        {"backends": {"script": {"kind": "scripted", "script": script}}, "default": {"backend": "script"},
         "progress": False, "max_repairs": 1, "retry": {"max_attempts": 1}}
    )  # fmt: skip
    return LLMClient(config.llm, config.run_dir)


def test_the_llm_proposer_reads_the_history_and_its_invalid_proposal_is_repaired(tmp_path):
    config = config_for(tmp_path, "llm-tpe", trials=6)
    proposals = [
        {"rationale": "try ce", "loss": "ce", "layers": 9, "lr": 0.003},  # outside: sent back with the reason
        {"rationale": "ce with 2 layers", "loss": "ce", "layers": 2, "lr": 0.003},
        {"rationale": "a bit slower", "loss": "ce", "layers": 2, "lr": 0.002},
    ]
    with scripted_llm(config, proposals) as client:
        study = study_module.evolve_agent(config, TOY, client, progress=False)
    trials = study.trials
    assert trials[0].user_attrs["source"] == "default"
    assert trials[1].params == {"loss": "ce", "layers": 2, "lr": 0.003} and trials[1].user_attrs["rationale"]
    assert trials[2].params == {"loss": "ce", "layers": 2, "lr": 0.002}
    assert [t.user_attrs.get("source", "tpe") for t in trials[3:]] == ["tpe"] * 3  # TPE takes over
    result = report(tmp_path)
    [record] = result["studies"]
    assert record["best_inner"] == pytest.approx(toy_reward({"loss": "ce", "layers": 2, "lr": 0.003}))
    assert record["best_so_far"] == sorted(record["best_so_far"]) and len(record["best_so_far"]) == 6
    assert (tmp_path / "evolve_best_so_far.png").is_file()


def test_a_proposer_that_only_repeats_itself_falls_back_to_a_seeded_random_config(tmp_path):
    config = config_for(tmp_path, "llm", trials=3)
    default = {"rationale": "the default again", "loss": "bce", "layers": 1, "lr": 0.001}
    with scripted_llm(config, [default] * 10) as client:
        study = study_module.evolve_agent(config, TOY, client, progress=False)
    sources = [t.user_attrs["source"] for t in study.trials]
    assert sources == ["default"] + ["random (the LLM gave no valid proposal)"] * 2
    assert len({json.dumps(t.params, sort_keys=True) for t in study.trials}) == 3
