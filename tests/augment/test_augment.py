"""LaMAR's item signal with a scripted LLM on a small catalogue: prompts with their few-shot examples, proposals
with near-duplicates dropped, generation with the consistency check and a resumed run, the signal as an item field,
and the diversity figures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from agenticrec.augment import artifacts
from agenticrec.augment.diversity import run_diversity, similarity_profile
from agenticrec.augment.generate import item_request, run_generate, writer_messages
from agenticrec.augment.propose import SignalProposal, proposal_request, run_propose, sample_items, worked_examples
from agenticrec.llm import LLMCallError, LLMClient, TransientFault
from agenticrec.pipeline import RunConfig, load_config
from agenticrec.testing.catalogues import successor_shop

TITLES = ["Steel kettle", "Glass teapot", "Mug", "Tea spoon", "Serving tray", "Milk jug", "Tea strainer", "Sugar bowl"]
PROPOSALS = [
    {"name": "Primary Use Case", "definition": "What the item is mainly used for."},
    {"name": "Primary Use Case", "definition": "What the item is mainly used for."},  # a repeat: dropped
    {"name": "Gift Suitability", "definition": "Whom the item would suit as a present."},
]
CALLS: list[str] = []
FAIL_AFTER: list[int] = []  # the writer fails once this many values were written (a run cut short)


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    system, user = messages[0]["content"], messages[-1]["content"]
    if "You design item attributes" in system:
        earlier = re.search(r"Already proposed \(propose a different attribute\): ([^\n]*)\.$", user)
        proposal = PROPOSALS[len(earlier.group(1).split(", ")) if earlier else 0]
        examples = [{"item": n, "value": f"example {n}"} for n in (1, 2, 3)]
        return json.dumps({"reasoning": "step by step", **proposal, "examples": examples})
    if "You fill in one attribute" in system:
        title = re.search(r"title: ([^;\n]+)", user.split("Item:")[-1]).group(1)  # type: ignore[union-attr]
        if FAIL_AFTER and len(CALLS) >= FAIL_AFTER[0]:
            raise TransientFault("the run is killed")
        CALLS.append(title)
        if title == "Mug":
            return "Primary use case: holding 12 oz of red hot chocolate"  # claims the text does not back
        return f"{title.lower()} for serving tea at home " + "and more " * 30
    raise AssertionError(f"unexpected prompt: {system[:80]}")


def scorer(messages: list[dict[str, str]], options: list[str]) -> list[float]:
    """The judge finds the Mug's value inconsistent with its text, every other value consistent."""
    bad = "red hot chocolate" in messages[-1]["content"]
    return [-2.0 if (option == "yes") == bad else -0.5 for option in options]


@pytest.fixture()
def config(tmp_path: Path) -> RunConfig:
    config = load_config(
        None,
        [
            *successor_shop(tmp_path, TITLES, users=16, steps=4),
            f"run_dir={tmp_path / 'run'}",
            "augment.proposals=3",
            "augment.sample_items=5",
            "augment.words=12",
            "llm.retry.max_attempts=1",
        ],
    )
    config.llm = config.llm.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": script, "scorer": scorer}},
            "default": {"backend": "script", "choice": "score"},
            "progress": False,
        }
    )
    CALLS.clear()
    FAIL_AFTER.clear()
    return config


def test_prompts_carry_their_few_shot_examples(config: RunConfig) -> None:
    dataset = config.data.load()
    items = sample_items(dataset, 5, 0)
    system, *turns, user = proposal_request(dataset, items, ["Primary Use Case"])
    assert [t["role"] for t in turns] == ["user", "assistant"] * 3  # worked examples are earlier turns
    answers = [json.loads(t["content"]) for t in turns[1::2]]
    assert [a["name"] for a in answers] == ["Gameplay Experience Focus", "Reading Mood", "Cooking Task"]
    assert "Already proposed (propose a different attribute): Primary Use Case." in user["content"]
    assert f"[1] {dataset.item_text(items[0])}" in user["content"] and "Fields: title" in user["content"]
    assert "Cooking Task" not in system["content"]
    proposal = {"name": "Primary Use Case", "definition": "What it is for.",
                "examples": [{"item": "i0", "value": "boiling water"}]}  # fmt: skip
    system, shot, value, item = writer_messages(dataset, proposal, 12, "title: Copper pan")
    assert "Primary Use Case: What it is for." in system["content"] and "At most 12 words" in system["content"]
    assert shot == {"role": "user", "content": item_request("title: Steel kettle")}
    assert value == {"role": "assistant", "content": "boiling water"}  # an example is an earlier turn, not text
    assert item == {"role": "user", "content": item_request("title: Copper pan")}


# SmolLM2-135M's proposal on Amazon Scientific: a sentence for a name, one value for every example
DEGENERATE = {
    "reasoning": "The reasoning is ",
    "name": "The data is a list of items that are used to create a piece,",
    "definition": "The data is a list of items that are used to create a product.",
    "examples": [{"item": n, "value": "The item is a product that is made from a material."} for n in (1, 2, 3)],
}


@pytest.mark.parametrize("repaired", [True, False])
def test_a_degenerate_proposal_is_sent_back_with_its_reason(config: RunConfig, repaired: bool) -> None:
    asked: list[list[dict[str, str]]] = []

    def degenerate_first(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        asked.append(messages)
        if repaired and len(asked) > 1:
            return script(messages, schema)
        return json.dumps(DEGENERATE)

    config.augment.proposals = 1
    config.llm.backends["script"].script = degenerate_first  # type: ignore[union-attr]
    dataset = config.data.load()
    with LLMClient(config.llm, config.run_dir) as client:
        if not repaired:
            with pytest.raises(LLMCallError):
                run_propose(dataset, config.augment, client, config.run_dir, config.seed)
            assert not (artifacts.augment_dir(config.run_dir) / artifacts.PROPOSALS).exists()
            return
        summary = run_propose(dataset, config.augment, client, config.run_dir, config.seed)
    repair = asked[1][-1]["content"]
    assert "at most 5 words without punctuation" in repair
    assert summary["names"] == ["Primary Use Case"]
    with pytest.raises(ValidationError, match="two of them are the same"):
        SignalProposal.model_validate(DEGENERATE | {"name": "Material"})


def test_a_copy_of_a_worked_example_is_refused() -> None:
    """Qwen-1.5B's first proposal for Amazon Scientific: the prompt's last worked example, word for word."""
    assert [e["name"] for e in worked_examples()] == ["Gameplay Experience Focus", "Reading Mood", "Cooking Task"]
    copied = {
        "reasoning": "A new attribute that focuses on the intended use of the item would be useful.",
        "name": "Cooking Task",
        "definition": "The cooking task the item is mainly used for.",
        "examples": [{"item": 1, "value": "searing and browning meat at high heat"}, {"item": 2, "value": "sanding"}],
    }
    with pytest.raises(ValidationError, match="copies the worked example 'Cooking Task'"):
        SignalProposal.model_validate(copied)
    with pytest.raises(ValidationError, match="copies the worked example"):  # a renamed copy is still a copy
        SignalProposal.model_validate(copied | {"name": "Lab Task"})
    fresh = copied | {"name": "Lab Task", "examples": [{"item": 1, "value": "sanding wood"}]}
    assert SignalProposal.model_validate(fresh).name == "Lab Task"


def test_a_looping_value_is_recognised_and_refused_in_a_proposal() -> None:
    from agenticrec.augment.propose import SignalExample, repeats_itself

    loop = "printer and scanner kit for home office use (e-All-in-One) for home office use (e-All-in-One) for home"
    assert repeats_itself(loop) and not repeats_itself("ink cartridges for home office printers")
    with pytest.raises(ValidationError, match="repeats itself"):
        SignalExample(item=1, value=loop)


def test_every_text_of_a_proposal_is_bounded_by_the_local_grammar() -> None:
    from agenticrec.llm.backends.embedded import GRAMMAR_MAX_LENGTH, grammar_schema

    schema = grammar_schema(SignalProposal.model_json_schema())
    texts = [schema["properties"][k] for k in ("reasoning", "name", "definition")]
    texts.append(schema["$defs"]["SignalExample"]["properties"]["value"])
    assert all(0 < text["maxLength"] <= GRAMMAR_MAX_LENGTH for text in texts)


def test_propose_generate_resume_and_select_the_signal(config: RunConfig) -> None:
    dataset = config.data.load()
    run_dir = config.run_dir
    with LLMClient(config.llm, run_dir) as client:
        proposed = run_propose(dataset, config.augment, client, run_dir, config.seed)
    assert proposed == {"proposed": 3, "kept": 2, "names": ["Primary Use Case", "Gift Suitability"]}
    examples = artifacts.read_json(run_dir, artifacts.PROPOSALS)[0]["examples"]
    assert [e["item"] for e in examples] == [
        dataset.item_ids()[i - 1] for i in sample_items(dataset, 5, config.seed)[:3]
    ]

    FAIL_AFTER.append(3)  # the first run stops paying after three values
    with LLMClient(config.llm, run_dir) as client:
        first = run_generate(dataset, config.augment, client, run_dir, config.seed)
    assert first["failed_calls"] == 5
    FAIL_AFTER.clear()
    with LLMClient(config.llm, run_dir) as client:
        summary = run_generate(dataset, config.augment, client, run_dir, config.seed)
    assert sorted(CALLS) == sorted(TITLES)  # every value was paid for once: the resumed run reused the first three
    assert summary["failed_calls"] == 0 and summary["column"] == "primary_use_case"
    assert summary["dropped_inconsistent"] == 1 and summary["signal_drop_rate"] == pytest.approx(1 / 8)
    values = pd.read_parquet(artifacts.augment_dir(run_dir) / artifacts.VALUES)
    mug = values[values["item_id"] == "i2"].iloc[0]
    assert not mug["kept"] and set(mug["absent_attributes"]) == {"12", "red"}
    assert mug["value"] == "holding 12 oz of red hot chocolate"  # the label is read off the answer
    assert values["value"].str.split().map(len).max() <= 12 and summary["cut_to_word_limit"] == 7

    signal = artifacts.augment_dir(run_dir) / artifacts.SIGNAL
    extended = config.data.model_copy(update={"item_fields": [signal], "text_fields": ["title", "primary_use_case"]})
    texts = dict(zip(dataset.item_ids(), extended.load().item_texts()))
    assert texts["i0"].startswith("title: Steel kettle; primary_use_case: steel kettle for serving tea")
    assert texts["i2"] == "title: Mug"  # its value was dropped

    result = run_diversity(dataset, config.augment, run_dir)
    shares = result["signal"]["pairs_above"]
    assert result["items"] == 7 and shares == sorted(shares, reverse=True)
    assert result["signal_pairs_above_0_5"] > result["title"]["pairs_above"][0]  # the values share a template
    assert (artifacts.augment_dir(run_dir) / artifacts.DIVERSITY_PLOT).is_file()


def test_the_judge_can_be_the_consistency_filter(config: RunConfig) -> None:
    dataset = config.data.load()
    config.augment.consistency = "judge"
    with LLMClient(config.llm, config.run_dir) as client:
        run_propose(dataset, config.augment, client, config.run_dir, config.seed)
        summary = run_generate(dataset, config.augment, client, config.run_dir, config.seed)
    values = pd.read_parquet(artifacts.augment_dir(config.run_dir) / artifacts.VALUES)
    assert summary["consistency"] == "judge" and summary["dropped_inconsistent"] == 1
    assert values.loc[~values["kept"], "item_id"].tolist() == ["i2"]


def test_generation_window_by_window_writes_the_same_tables(config: RunConfig) -> None:
    """Three items at a time (three windows of the seven items, one row group each): the rows and figures of one
    window, and no call paid twice."""
    dataset, run_dir = config.data.load(), config.run_dir
    folder = artifacts.augment_dir(run_dir)
    runs = {}
    for window in (10_000, 3):
        config.llm.executor.window = window
        with LLMClient(config.llm, run_dir) as client:
            run_propose(dataset, config.augment, client, run_dir, config.seed)
            summary = run_generate(dataset, config.augment, client, run_dir, config.seed)
            usage = client.usage.as_dict()["signal_writer"]
        tables = [pd.read_parquet(folder / name) for name in (artifacts.VALUES, artifacts.SIGNAL)]
        runs[window] = (tables, {key: value for key, value in summary.items() if key != "seconds"}, usage)
    (whole, figures, _), (windowed, windowed_figures, usage) = runs[10_000], runs[3]
    assert windowed_figures == figures and usage["calls"] == usage["cached"] == len(TITLES)
    assert pq.ParquetFile(folder / artifacts.VALUES).num_row_groups == 3
    for one, parts in zip(whole, windowed):
        pd.testing.assert_frame_equal(one, parts)


def test_similarity_profile_on_a_hand_made_example() -> None:
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    profile = similarity_profile(vectors, [0.5, 1.5], crowded_share=0.1)
    assert profile["pairs_above"] == [pytest.approx(2 / 6), 0.0]  # items 0 and 1, in both orders
    assert profile["crowded_items"] == [pytest.approx(2 / 3), 0.0]
