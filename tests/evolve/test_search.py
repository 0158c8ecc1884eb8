"""Individual evolution on a toy agent: the space rejects proposals outside it with reasons, seeded random search
reproduces itself, every method starts from the default, and the LLM proposer's proposals are enqueued."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from evolve_testkit import TOY, fake_trial, toy_reward
from pydantic import ValidationError

from agenticrec.errors import AgenticRecError, ConfigError
from agenticrec.evolve import study as study_module
from agenticrec.evolve.card import load_card, shipped_cards
from agenticrec.evolve.proposer import memory_lines, proposal_model
from agenticrec.evolve.space import Param
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


def test_a_proposal_is_structurally_in_the_space():
    levels = TOY.space.levels(7)
    assert levels["layers"] == [1, 2, 3, 4] and levels["negatives"] == [64, 256]
    assert levels["lr"][0] == 0.0001 and levels["lr"][-1] == 0.01 and 0.001 in levels["lr"]  # log-spaced grid
    model = proposal_model(TOY.space, levels)
    schema = model.model_json_schema()["properties"]
    assert schema["layers"]["enum"] == [1, 2, 3, 4] and schema["loss"]["enum"] == ["bce", "ce", "sampled_softmax"]
    assert model.model_validate({"rationale": "ce", "loss": "ce", "layers": 2, "lr": 0.00215}).layers == 2
    with pytest.raises(ValidationError, match="layers"):
        model.model_validate({"rationale": "deeper", "loss": "ce", "layers": 7, "lr": 0.00215})
    with pytest.raises(ValidationError, match="lr"):
        model.model_validate({"rationale": "off the grid", "loss": "ce", "layers": 2, "lr": 0.003})
    # an active conditional decision left out takes its default; an inactive one given is dropped
    assert TOY.space.complete({"loss": "sampled_softmax", "layers": 2, "lr": 0.001})["negatives"] == 64
    assert "negatives" not in TOY.space.complete({"loss": "ce", "negatives": 256, "layers": 2, "lr": 0.001})


def test_numeric_levels_stay_in_range_and_int_ranges_are_thinned_evenly():
    wide = Param(key="k", kind="int", low=1, high=100, default=1)
    assert wide.levels(5) == [1, 26, 51, 75, 100]
    log_int = Param(key="k", kind="int", low=1, high=1000, log=True, default=1)
    assert log_int.levels(4) == [1, 10, 100, 1000]
    assert Param(key="k", kind="float", low=0.0, high=0.6, default=0.2).levels(4) == [0.0, 0.2, 0.4, 0.6]


@pytest.mark.parametrize(
    ("decision", "problem"),
    [
        ("{kind: choice, choices: [], default: 1}", "a choice needs at least one choice"),
        ("{kind: float, low: 0.5, high: 0.1, default: 0.2}", "a range needs low <= high"),
    ],
)
def test_a_card_whose_space_cannot_be_decoded_is_refused_naming_the_decision(tmp_path, decision, problem):
    card = tmp_path / "broken.yaml"
    card.write_text(f"name: broken\ndescription: d\nrole: retriever\nspace:\n  depth: {{key: model.num_layers, "
                    f"{decision[1:]}\n")  # fmt: skip
    with pytest.raises(ConfigError, match=rf"invalid agent card \S+: decision depth: model.num_layers: {problem}$"):
        load_card(card)


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
        {"rationale": "try ce", "loss": "ce", "layers": 9, "lr": 0.00215},  # a backend without grammar: sent back
        {"rationale": "ce with 2 layers", "loss": "ce", "layers": 2, "lr": 0.00215},
        {"rationale": "a bit slower", "loss": "ce", "layers": 2, "lr": 0.001},
    ]
    with scripted_llm(config, proposals) as client:
        study = study_module.evolve_agent(config, TOY, client, progress=False)
    trials = study.trials
    assert trials[0].user_attrs["source"] == "default"
    assert trials[1].params == {"loss": "ce", "layers": 2, "lr": 0.00215} and trials[1].user_attrs["rationale"]
    assert trials[2].params == {"loss": "ce", "layers": 2, "lr": 0.001}
    assert [t.user_attrs.get("source", "tpe") for t in trials[3:]] == ["tpe"] * 3  # TPE takes over
    result = report(tmp_path)
    [record] = result["studies"]
    assert record["best_inner"] == pytest.approx(max(toy_reward(t.params) for t in trials))
    assert record["best_so_far"] == sorted(record["best_so_far"]) and len(record["best_so_far"]) == 6
    assert (tmp_path / "evolve_best_so_far.png").is_file()


def test_the_proposer_sees_the_best_worst_and_failed_trials(tmp_path):
    trials = [{"number": n, "params": {"layers": n}, "inner": n / 100} for n in range(1, 9)]
    trials.append({"number": 9, "params": {"layers": 9}, "inner": None, "error": "RuntimeError: out of memory"})
    memory = memory_lines(trials, "ndcg@10", shown=2)
    best, worst, failed, count = memory.split("\n\n")
    assert count == "9 trials so far: 8 finished, 1 failed."
    assert [line.split(":")[0] for line in best.splitlines()[1:]] == ["- trial 8", "- trial 7"]
    assert [line.split(":")[0] for line in worst.splitlines()[1:]] == ["- trial 2", "- trial 1"]
    assert "FAILED: RuntimeError: out of memory" in failed


def test_a_repeated_proposal_becomes_an_untried_neighbour(tmp_path):
    config = config_for(tmp_path, "llm", trials=4)
    default = {"rationale": "the default again", "loss": "bce", "layers": 1, "lr": 0.001}
    with scripted_llm(config, [default] * 10) as client:
        study = study_module.evolve_agent(config, TOY, client, progress=False)
    sources = [t.user_attrs["source"] for t in study.trials]
    assert sources == ["default"] + ["llm (a repeat, one decision changed)"] * 3
    assert len({json.dumps(t.params, sort_keys=True) for t in study.trials}) == 4
    for trial in study.trials[1:]:  # one decision away from what the model repeated
        moved = [k for k in TOY.space.params if trial.params.get(k) != TOY.space.default().get(k)]
        assert len(moved) == 1 or moved == ["loss", "negatives"]


def test_the_chooser_takes_the_candidate_the_model_scores_highest(tmp_path):
    config = config_for(tmp_path, "chooser", trials=6)
    prompts: list[str] = []

    def scorer(messages, options):
        prompts.append(messages[-1]["content"])
        return prefer_ce_deep(messages, options)

    config.llm = config.llm.model_validate(
        {"backends": {"script": {"kind": "scripted", "script": lambda m, s: "", "scorer": scorer}},
         "default": {"backend": "script", "choice": "calibrated"}, "progress": False}
    )  # fmt: skip
    with LLMClient(config.llm, config.run_dir) as client:
        study = study_module.evolve_agent(config, TOY, client, progress=False)
    chosen = study.trials[1:]
    assert all(t.user_attrs["source"] == "chooser" and t.user_attrs["candidates"] == 8 for t in chosen)
    assert all(t.params["loss"] == "ce" for t in chosen)  # among 8 TPE candidates, the model's pick
    assert len({json.dumps(t.params, sort_keys=True) for t in study.trials}) == 6
    # the content-free request shares the candidates with the request as a prefix; numbers are shown rounded
    request, content_free = [p for p in prompts if "N/A" not in p][-1], [p for p in prompts if "N/A" in p][-1]
    candidates = request[: request.index("Experience so far:")]
    assert candidates.startswith("Candidates:\n- ") and content_free.startswith(candidates)
    assert all(len(lr) <= 8 for lr in re.findall(r"lr=([0-9.e-]+)", candidates))


def prefer_ce_deep(messages, options):
    """A scorer that likes ce and more layers, and gives nothing for the content-free request."""
    if "Experience so far:\nN/A" in messages[-1]["content"]:
        return [0.0] * len(options)
    return [("loss=ce" in o) * 5.0 + sum(f"layers={k}" in o for k in (2, 3)) for o in options]


def test_the_bandit_moves_one_decision_of_the_incumbent_and_resumes_its_posterior(tmp_path):
    study = study_module.evolve_agent(config_for(tmp_path / "a", "bandit", trials=20), TOY, progress=False)
    trials = study.trials
    assert trials[0].user_attrs["source"] == "default"
    assert {t.user_attrs["source"] for t in trials[1:]} == {"bandit"}
    for trial in trials[1:]:
        before = max((t for t in trials[: trial.number]), key=lambda t: t.value)
        assert trial.user_attrs["incumbent"] == before.value
        if trial.user_attrs["arm"] == "random":  # every neighbour of the incumbent was tried: a random restart
            continue
        moved = {k for k in TOY.space.params if trial.params.get(k) != before.params.get(k)}
        assert moved == {trial.user_attrs["arm"]} or moved == {"loss", "negatives"}
    assert sum(t.user_attrs["arm"] != "random" for t in trials[1:]) >= 12
    assert study.best_value > toy_reward(TOY.space.default()) + 0.02
    # stopped at 12 and resumed to 20: the same trials as one run
    study_module.evolve_agent(config_for(tmp_path / "b", "bandit", trials=12), TOY, progress=False)
    resumed = study_module.evolve_agent(config_for(tmp_path / "b", "bandit", trials=20), TOY, progress=False)
    assert params_of(resumed) == params_of(study)


def test_a_run_directory_refuses_another_method_or_a_changed_card(tmp_path):
    study_module.evolve_agent(config_for(tmp_path, "random", trials=2), TOY, progress=False)
    with pytest.raises(AgenticRecError, match="holds the study toy-random-seed0; it cannot be mixed with toy-tpe"):
        study_module.evolve_agent(config_for(tmp_path, "tpe", trials=2), TOY, progress=False)
    wider = TOY.model_copy(update={"description": "A toy agent, described anew."})
    with pytest.raises(AgenticRecError, match="the agent card toy has changed"):
        study_module.evolve_agent(config_for(tmp_path, "random", trials=3), wider, progress=False)
    assert len(study_module.evolve_agent(config_for(tmp_path, "random", trials=3), TOY, progress=False).trials) == 3
