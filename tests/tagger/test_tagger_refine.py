"""Algorithm 2, branch by branch, with a scripted architect and annotators on a toy catalogue."""

from __future__ import annotations

import json

import pytest
from tagger_testkit import TaggerScript, run_config

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline.stages import tag_build as run_build
from agenticrec.tagger import artifacts


def build(tmp_path, script, **tagger):
    config = run_config(tmp_path, script, **tagger)
    vocabulary = run_build(config)
    log = artifacts.read_build_log(artifacts.tagger_dir(config.run_dir) / artifacts.BUILD_LOG)
    return vocabulary, log


def events(log, kind):
    return [e for e in log if e["event"] == kind]


def test_create_approved_then_early_stop_on_coverage(tmp_path):
    script = TaggerScript()
    vocabulary, log = build(tmp_path, script)
    assert [(d.name, d.item_count) for d in vocabulary.children(None)] == [
        ("fruit", 16),
        ("vegetable", 16),
        ("dairy", 16),
    ]
    cycles = events(log, "cycle")
    assert [(c["cycle"], c["assigned"], c["unassigned"]) for c in cycles] == [(1, 32, 16), (2, 48, 0)]
    assert events(log, "proposal")[0]["action"] == "CREATE_NEW_CATEGORY"
    assert events(log, "decision")[0]["approved"] is True
    assert events(log, "split_done")[0]["stopped_by"] == "coverage"
    # cycle 2 re-annotates only the 16 unassigned items
    assert script.calls.count("annotate") == 48 + 16


def test_rejected_proposal_runs_to_max_cycles(tmp_path):
    vocabulary, log = build(tmp_path, TaggerScript(approve=False), build={"max_cycles": 3})
    assert [d.name for d in vocabulary.children(None)] == ["fruit", "vegetable"]
    assert [c["coverage"] for c in events(log, "cycle")] == pytest.approx([2 / 3] * 3)
    assert [d["approved"] for d in events(log, "decision")] == [False, False]
    assert events(log, "split_done")[0]["stopped_by"] == "max cycles"


def test_expand_widens_a_description_and_reassigns(tmp_path):
    change = {
        "action": "EXPAND_EXISTING_CATEGORY",
        "target": "vegetable",
        "description": "vegetables and dairy",
        "includes": ["cheese"],
    }
    vocabulary, log = build(tmp_path, TaggerScript(change=change))
    vegetable = vocabulary.children(None)[1]
    assert vegetable.description == "vegetables and dairy" and vegetable.includes == ["cheese"]
    assert vegetable.item_count == 32 and len(vocabulary.children(None)) == 2


def test_ignore_marks_outliers(tmp_path):
    _, log = build(tmp_path, TaggerScript(change={"action": "IGNORE_AS_OUTLIERS", "reasoning": "rare"}))
    assert events(log, "cycle")[-1]["outliers"] == 0  # counted at the next cycle, which never runs
    assert events(log, "split_done")[0]["stopped_by"] == "all unassigned items are outliers"


def test_anomaly_threshold_stops_before_any_proposal(tmp_path):
    script = TaggerScript()
    _, log = build(tmp_path, script, build={"anomaly_threshold": 17})
    assert events(log, "split_done")[0]["stopped_by"] == "anomaly threshold"
    assert "change" not in script.calls


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"action": "CREATE_NEW_CATEGORY", "name": "fruit", "description": "again"}, "exists already"),
        ({"action": "CREATE_NEW_CATEGORY", "name": "", "description": "no name"}, "needs a name"),
        ({"action": "EXPAND_EXISTING_CATEGORY", "target": "", "description": "x"}, "needs the target"),
        ({"action": "EXPAND_EXISTING_CATEGORY", "target": "meat", "description": "x"}, "not valid JSON|schema"),
        ("I think you should add dairy", "not valid JSON"),
    ],
)
def test_malformed_proposals_are_logged_and_never_reviewed(tmp_path, change, problem):
    script = TaggerScript(change=change)
    vocabulary, log = build(tmp_path, script, build={"max_cycles": 2})
    proposal = events(log, "proposal")[0]
    assert proposal["valid"] is False and proposal["problem"]
    assert any(word in proposal["problem"] for word in problem.split("|"))
    assert "review" not in script.calls
    assert [d.name for d in vocabulary.children(None)] == ["fruit", "vegetable"]


def test_architect_failure_is_a_clear_error(tmp_path):
    class NoProposal(TaggerScript):
        def __call__(self, messages, schema):
            if "Propose about" in messages[0]["content"]:
                return json.dumps({"descriptors": [{"name": "only", "description": "one"}]})  # fewer than 2
            return super().__call__(messages, schema)

    with pytest.raises(AgenticRecError, match="architect gave no usable proposal for node root"):
        build(tmp_path, NoProposal())


def test_per_cluster_architect_names_each_group(tmp_path):
    script = TaggerScript()
    vocabulary, log = build(tmp_path, script, build={"architect": "per_cluster", "initial_children": 3})
    proposed = events(log, "initial_proposal")[0]["children"]
    assert script.calls.count("name_group") == 3
    assert 2 <= len(proposed) == len(set(proposed)) and set(proposed) <= {"fruit", "vegetable", "dairy"}


def test_per_cluster_architect_merges_repeated_names(tmp_path):
    with pytest.raises(AgenticRecError, match="fewer than two distinct groups for node root"):
        build(tmp_path, TaggerScript(group_name="food"), build={"architect": "per_cluster", "initial_children": 3})
