"""RecGPT's history compression on hand-made histories: periods, both aggregation steps, the rendered lines."""

from __future__ import annotations

import json

from agenticrec.data import load_dataset
from agenticrec.intent.config import IntentConfig
from agenticrec.intent.history import (
    DAY,
    Event,
    History,
    bucket_label,
    compress,
    fit_lines,
    period_label,
    uncompressed,
)
from agenticrec.intent.items import llm_names, template_names
from agenticrec.llm import LLMClient, LLMConfig

NAMES = {1: "Heat", 2: "Casino", 3: "Fargo", 4: "Alien", 5: "Big"}


def test_period_labels_use_days_months_and_years() -> None:
    assert period_label(0) == "today"
    assert period_label(1 * DAY) == "1 day ago"
    assert period_label(29 * DAY) == "29 days ago"
    assert period_label(40 * DAY) == "1 month ago"
    assert period_label(300 * DAY) == "10 months ago"
    assert period_label(800 * DAY) == "2 years ago"


def test_position_buckets_without_timestamps() -> None:
    assert [bucket_label(p, [5, 20]) for p in (1, 5, 6, 20, 21)] == [
        "last 5",
        "last 5",
        "6-20 back",
        "6-20 back",
        "older",
    ]


def history() -> History:
    # day: item (behaviour); the last event is day 400
    events = [
        (0, 1, "liked"),
        (100, 2, "loved"),
        (360, 1, "loved"),
        (398, 3, "loved"),
        (398, 5, "loved"),
        (400, 4, "liked"),
    ]
    return History("u", [Event(item, day * DAY, kind) for day, item, kind in events])


def test_items_are_numbered_from_the_most_recent_event() -> None:
    assert history().refs == {4: 1, 5: 2, 3: 3, 1: 4, 2: 5}


def test_compression_groups_by_period_and_behaviour_then_by_item() -> None:
    lines = compress(history(), NAMES, [5, 20])
    assert lines == [
        "today (liked) | [1] Alien",
        # step 1: two items share (2 days ago, loved); step 2 keeps them on one line
        "2 days ago (loved) | [2] Big, [3] Fargo",
        # step 2: item 1 recurs across periods and appears once, with both period-behaviour pairs
        "1 month ago (loved), 1 year ago (liked) | [4] Heat",
        "10 months ago (loved) | [5] Casino",
    ]


def test_same_period_with_two_behaviours_is_listed_once() -> None:
    events = [Event(1, 0.0, "watched"), Event(1, 1.0, "loved"), Event(2, 2.0, "watched")]
    assert compress(History("u", events), NAMES, [5]) == [
        "today (watched) | [1] Casino",
        "today (watched, loved) | [2] Heat",
    ]


def test_histories_without_timestamps_use_position_buckets() -> None:
    events = [Event(i, None, "bought") for i in (1, 2, 3)]
    assert compress(History("u", events), NAMES, [1, 2]) == [
        "last 1 (bought) | [1] Fargo",
        "2-2 back (bought) | [2] Casino",
        "older (bought) | [3] Heat",
    ]


def test_uncompressed_lists_every_event_with_its_date() -> None:
    lines = uncompressed(history(), {i: f"title: {n}" for i, n in NAMES.items()})
    assert len(lines) == 6
    assert lines[0] == "1971-02-05 liked: [1] title: Alien"
    assert lines[-1] == "1970-01-01 liked: [4] title: Heat"


def test_fit_lines_keeps_the_most_recent_lines_within_the_budget() -> None:
    assert fit_lines(["a", "b", "c"], [3, 3, 3], 8) == ["a", "b"]
    assert fit_lines(["a"], [10], 5) == []


def test_llm_item_compression_replaces_template_names_where_the_call_succeeds() -> None:
    def script(messages: list[dict[str, str]], schema: object) -> str:
        return json.dumps({"name": "Short " + ("Toy" if "Toy Story" in messages[-1]["content"] else "film")})

    dataset = load_dataset("movielens-100k")
    config = IntentConfig(llm_item_compression=True)
    llm = LLMConfig.model_validate(
        {"backends": {"s": {"kind": "scripted", "script": script}}, "default": {"backend": "s"}, "progress": False}
    )
    toy_story = dataset.item_index("1")
    with LLMClient(llm) as client:
        names = llm_names(dataset, config, client, [toy_story, dataset.item_index("2")])
    template = template_names(dataset, config)
    assert names[toy_story] == "Short Toy"
    assert names[dataset.item_index("2")] == "Short film"
    assert names[dataset.item_index("3")] == template[dataset.item_index("3")]  # not asked: the template form
