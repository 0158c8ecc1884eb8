"""Critique control end to end on the toy catalogue: descriptors from the scripted tagger, a tiny generative
model on descriptor IDs, and a scripted user who always picks the wanted item's kind."""

from __future__ import annotations

import json

import pytest
from tagger_testkit import KINDS, run_config
from typer.testing import CliRunner

from agenticrec.cli import app
from agenticrec.config import apply_override, parse_override
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline import RunConfig, load_config, load_run, train_and_evaluate
from agenticrec.pipeline.stages import tag_assign as run_assign
from agenticrec.pipeline.stages import tag_build as run_build
from agenticrec.tagger.critique.experiment import run_critique

TINY_MODEL = [
    "model.name=generative",
    "model.num_layers=1",
    "model.d_model=16",
    "model.d_ff=32",
    "model.num_heads=2",
    "model.d_kv=8",
    "model.max_items=3",
    "model.beam=20",
    "semantic_ids.method=descriptors",
    "train.epochs=2",
    "train.batch_size=16",
]


def write_walks(path):
    """Each user buys six items of one kind in a row, so histories predict the kind of the next item."""
    rows = ["user_id,item_id,timestamp"]
    for u in range(30):
        kind, words = list(KINDS.items())[u % 3]
        rows += [f"u{u},{kind}-{words[(u + t) % 8]}-{t % 2},{t}" for t in range(6)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def generative_run(tmp_path):
    tagged = run_config(tmp_path, "tagger_testkit:shopper_script", assign={"method": "llm"})
    run_build(tagged)
    run_assign(tagged)
    tree = tagged.model_dump(mode="json", exclude={"model"})
    tree["data"]["options"]["interactions"] = str(write_walks(tmp_path / "walks.csv"))
    for text in [*TINY_MODEL, f"semantic_ids.tagger_run={tagged.run_dir}", f"run_dir={tmp_path / 'gen'}"]:
        apply_override(tree, *parse_override(text))
    config = RunConfig.model_validate(tree)
    train_and_evaluate(config)
    return config


def test_critique_keeps_only_picked_descriptors_and_never_loses_the_target(generative_run):
    config = generative_run
    result = run_critique(config.run_dir, users=100)
    assert result["users"] == 30 and result["failed_llm_calls"] == 0
    assert result["target_under_picks"] == 1.0 and result["abstained"] == 0
    # the scripted user picks the target's own kind: it is the oracle
    assert result["oracle"] == result["critique"]
    # restricting the beam to a set that holds the target can only move the target up
    for k in (5, 10, 20):
        assert result["critique"][f"recall@{k}"] >= result["vanilla"][f"recall@{k}"]
        assert result["critique"][f"ndcg@{k}"] >= result["vanilla"][f"ndcg@{k}"] - 1e-12
    assert json.loads((config.run_dir / "critique.json").read_text())["users"] == 30
    shown = CliRunner().invoke(app, ["critique", str(config.run_dir), "--users", "100"])
    assert shown.exit_code == 0, shown.output
    assert "oracle" in shown.output and "(0 abstained)" in shown.output


def test_the_critique_command_takes_the_simulated_users_own_llm(generative_run):
    run_dir = str(generative_run.run_dir)
    keys = ["llm.backends.other.kind=scripted", "llm.backends.other.script=tagger_testkit:shopper_script",
            "llm.default.backend=other"]  # fmt: skip
    user = [arg for key in keys for arg in ("--set", key)]
    shown = CliRunner().invoke(app, ["critique", run_dir, "--users", "100", *user])
    assert shown.exit_code == 0, shown.output
    recorded = json.loads((generative_run.run_dir / "critique.json").read_text())["protocol"]["simulated_user"]
    assert recorded["backend"] == "other"  # not the run's own backend ("script")
    carded = CliRunner().invoke(app, ["critique", run_dir, "--users", "100", "--examples", "2", *user])
    assert carded.exit_code == 0 and "whose target is on no card" in carded.output, carded.output
    bad = CliRunner().invoke(app, ["critique", run_dir, "--set", "model.name=sasrec"])
    assert isinstance(bad.exception, AgenticRecError) and "llm.* keys only" in str(bad.exception)


def test_recommend_command_filters_by_descriptor_name(generative_run):
    config = generative_run
    run = load_run(config.run_dir)
    runner = CliRunner()
    user = run.dataset.user_ids[0]
    result = runner.invoke(app, ["recommend", str(config.run_dir), "--user", user, "-k", "8", "--allow", "dairy"])
    assert result.exit_code == 0, result.output
    shown = [
        line for line in result.output.splitlines() if "dairy-" in line or "fruit-" in line or "vegetable-" in line
    ]
    assert shown and all("dairy-" in line for line in shown)
    bad = runner.invoke(app, ["recommend", str(config.run_dir), "--user", user, "--allow", "meat"])
    assert isinstance(bad.exception, AgenticRecError) and "unknown level-1 descriptor" in str(bad.exception)
    unknown = runner.invoke(app, ["recommend", str(config.run_dir), "--user", "nobody"])
    assert isinstance(unknown.exception, AgenticRecError) and "unknown user id" in str(unknown.exception)


def test_critique_needs_a_run_with_semantic_ids(tmp_path):
    config = load_config(None, ["model.name=popularity", f"run_dir={tmp_path}"])
    train_and_evaluate(config)
    with pytest.raises(AgenticRecError, match="needs a run with semantic IDs"):
        run_critique(tmp_path)


def test_the_simulated_user_can_pick_by_calibrated_scores():
    from agenticrec.llm import LLMClient, LLMConfig
    from agenticrec.tagger.critique.simulated_user import Option, pick_level1

    def scorer(messages, options):  # a first-option prior, and evidence for the item's own kind
        text = messages[-1]["content"]
        return [(4.0 if k == 0 else 0.0) + (3.0 if o in text else 0.0) for k, o in enumerate(options)]

    config = LLMConfig.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": lambda m, s: "unused", "scorer": scorer}},
            "roles": {"simulated_user": {"backend": "script", "choice": "calibrated"}},
            "progress": False,
        }
    )
    options = [Option(str(k), kind, kind) for k, kind in enumerate(KINDS, start=1)]
    with LLMClient(config) as client:
        picks = pick_level1(client, [f"title: {w}; kind: {kind}" for kind in KINDS for w in KINDS[kind][:2]], options)
    assert picks == [["1"], ["1"], ["2"], ["2"], ["3"], ["3"]]


def kind_reader():
    """A calibrated simulated user whose scores are evidence for the wanted item's own kind only."""
    from agenticrec.llm import LLMConfig

    def scorer(messages, options):
        return [3.0 if o in messages[-1]["content"] else 0.0 for o in options]

    return LLMConfig.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": lambda m, s: "unused", "scorer": scorer}},
            "roles": {"simulated_user": {"backend": "script", "choice": "calibrated"}},
            "progress": False,
        }
    )


def test_a_scoring_user_gets_a_soft_critique_weighted_on_validation_users(generative_run):
    from agenticrec.tagger.critique.experiment import SOFT_WEIGHTS

    config = kind_reader()
    result = run_critique(generative_run.run_dir, users=100, llm=config, valid_users=20)
    curve = {float(w): v for w, v in result["soft_valid_ndcg10"].items()}
    assert sorted(curve) == sorted(SOFT_WEIGHTS) and result["soft_valid_users"] == 20
    assert curve[result["soft_weight"]] == max(curve.values())
    assert result["soft_weight"] > 0  # a user who names the target's kind helps on validation users
    assert result["soft"]["ndcg@10"] >= result["vanilla"]["ndcg@10"]
    for decoding, (low, high) in result["ndcg10_gain_ci95"].items():  # each interval holds its own point gain
        assert low <= result[decoding]["ndcg@10"] / result["vanilla"]["ndcg@10"] - 1 <= high, decoding
    assert sorted(result["ndcg10_gain_ci95"]) == ["critique", "oracle", "soft"]
    plain = run_critique(generative_run.run_dir, users=100, llm=config, valid_users=0)
    assert "soft" not in plain and plain["critique"] == result["critique"]


def test_a_scoring_user_picks_a_close_second_and_abstains_without_evidence():
    from agenticrec.tagger.critique.simulated_user import scored_picks

    tokens = ["1", "2", "3"]
    assert scored_picks([2.0, 1.8, 0.1], tokens, calibrated=True) == ["1", "2"]  # within the margin
    assert scored_picks([0.1, 2.0, 1.0], tokens, calibrated=True) == ["2"]
    assert scored_picks([2.0, 1.9, 1.95], tokens, calibrated=True) == ["1", "3"]  # at most two
    assert scored_picks([-0.2, -0.5, -1.0], tokens, calibrated=True) == []  # no likelier than for no item
    assert scored_picks([-0.2, -0.5, -1.0], tokens, calibrated=False) == ["1", "2"]  # raw log-probs: no abstention


def test_the_simulated_user_reads_the_item_without_its_category_field():
    import numpy as np
    import pandas as pd

    from agenticrec.data.dataset import Dataset

    items = pd.DataFrame({"item_id": ["a"], "title": ["OPI Nail Lacquer"], "categories": ["Beauty > Nails"]})
    sequences = [np.array([1, 1, 1])]
    catalogue = Dataset("toy", items, ["u"], sequences, ["title", "categories"], category_field="categories")
    assert catalogue.without_category_field().item_text(1) == "title: OPI Nail Lacquer"  # never the label it picks from
    only_label = Dataset("toy", items, ["u"], sequences, ["categories"], category_field="categories")
    with pytest.raises(AgenticRecError, match="no item text field besides the category field"):
        only_label.without_category_field()


def test_the_quickstart_example_steers_the_list_to_the_descriptor_the_user_picks(generative_run):
    from agenticrec.quickstart import critique_example

    run = load_run(generative_run.run_dir)
    example = critique_example(run, kind_reader())
    target = int(run.split.stage("test").targets[0])
    [wanted] = [kind for kind in KINDS if f"kind: {kind}" in run.dataset.item_text(target)]
    assert example["picks"] == [wanted]
    assert example["critique"] != example["vanilla"]


def test_option_cards_list_their_most_interacted_items():
    import numpy as np

    from agenticrec.semantic_ids import SemanticIDs
    from agenticrec.tagger.critique.simulated_user import Option, with_examples

    ids = SemanticIDs.from_paths(
        "descriptors", [("1",), ("2",), ("1",), ("1",)], [("Skin",), ("Hair",)] + [("Skin",)] * 2
    )
    options = [Option("1", "Skin", "Skin: creams"), Option("2", "Hair", "Hair")]
    counts = np.array([0, 5, 9, 1, 7])  # per item index; 0 is padding
    cards = [o.card for o in with_examples(options, ids, counts, lambda item: f"item {item}", 2)]
    assert cards == ["Skin: creams (typical items: item 4; item 1)", "Hair (typical items: item 2)"]
    assert with_examples(options, ids, counts, str, 0) == options


def test_a_critique_with_examples_shows_every_user_the_same_cards(generative_run):
    seen: list[str] = []

    def scorer(messages, options):
        seen.append(messages[0]["content"])
        return [3.0 if o in messages[-1]["content"] else 0.0 for o in options]

    config = kind_reader().model_copy(deep=True)
    config.backends["script"] = config.backends["script"].model_copy(update={"scorer": scorer})
    result = run_critique(generative_run.run_dir, users=20, llm=config, valid_users=5, examples=2)
    assert result["protocol"]["examples_per_option"] == 2 and 0.0 <= result["target_among_typical"] <= 1.0
    assert len(set(seen)) == 1 and seen[0].count("typical items:") == result["protocol"]["level1_options"]
    unseen = result["targets_not_among_typical"]
    assert unseen["users"] == round(result["users"] * (1 - result["target_among_typical"]))
    assert set(unseen) == {"typical_per_option", "users", "target_under_picks", "vanilla", "critique", "oracle", "soft"}
    plain = run_critique(generative_run.run_dir, users=20, llm=config, valid_users=5, typical_apart=2)
    assert (
        plain["protocol"]["examples_per_option"] == 0
        and plain["target_among_typical"] == result["target_among_typical"]
    )
    assert plain["targets_not_among_typical"]["users"] == unseen["users"]
