"""Algorithm 1's controls: depth, split threshold, branching factor and subsampling."""

from __future__ import annotations

from tagger_testkit import TaggerScript, run_config

from agenticrec.pipeline.stages import tag_build as run_build
from agenticrec.tagger import artifacts
from agenticrec.tagger.vocabulary import Vocabulary

THREE = {"fruit": "fresh fruit", "vegetable": "fresh vegetables", "dairy": "milk products"}


def test_depth_and_threshold_decide_which_nodes_split(tmp_path):
    config = run_config(tmp_path, TaggerScript(initial=THREE), build={"max_depth": 3})
    vocabulary = run_build(config)
    # word lengths decide small/large: dairy has 6 small and 10 large items, vegetables no large ones
    assert vocabulary.size_per_level() == {1: 3, 2: 5, 3: 3}
    fruit_small, fruit_large = vocabulary.children("1")
    assert (fruit_small.id, fruit_small.name, fruit_small.item_count) == ("1.1", "small", 12)
    assert (fruit_large.id, fruit_large.item_count) == ("1.2", 4)
    log = artifacts.read_build_log(config.run_dir, artifacts.BUILD_LOG)
    split = {e["node"]: e["items"] for e in log if e["event"] == "split"}
    assert split == {"root": 48, "1": 16, "2": 16, "3": 16, "1.1": 12, "2.1": 16, "3.2": 10}
    assert [e["dropped_empty"] for e in log if e["event"] == "split_done" and e["node"] == "2"] == [["large"]]
    assert Vocabulary.load(artifacts.tagger_dir(config.run_dir) / artifacts.VOCABULARY) == vocabulary


def test_max_depth_one_gives_a_flat_vocabulary(tmp_path):
    vocabulary = run_build(run_config(tmp_path, TaggerScript(initial=THREE), build={"max_depth": 1}))
    assert vocabulary.depth() == 1 and len(vocabulary.descriptors) == 3


def test_branching_lets_an_item_join_several_children(tmp_path):
    config = run_config(tmp_path, TaggerScript(initial=THREE, multi=True), build={"branching": 2})
    vocabulary = run_build(config)
    assert [d.item_count for d in vocabulary.children(None)] == [16, 16, 48]


def test_branching_one_gives_each_item_one_child(tmp_path):
    vocabulary = run_build(run_config(tmp_path, TaggerScript(initial=THREE, multi=True)))
    assert [d.item_count for d in vocabulary.children(None)] == [16, 16, 16]


def test_subsampling_annotates_a_seeded_sample(tmp_path):
    members = []
    for name in ("a", "b"):
        config = run_config(tmp_path / name, TaggerScript(initial=THREE), build={"max_items_per_split": 20})
        vocabulary = run_build(config)
        log = artifacts.read_build_log(config.run_dir, artifacts.BUILD_LOG)
        split = next(e for e in log if e["event"] == "split")
        assert (split["items"], split["annotated"]) == (48, 20)
        labelled = artifacts.read_json(config.run_dir, artifacts.BUILD_MEMBERS)
        assert sum(len(ids) for ids in labelled.values()) == 20  # LLM labels only
        assert sum(d.item_count for d in vocabulary.children(None)) == 48  # the rest routed by the classifier
        members.append(labelled)
    assert members[0] == members[1]


def test_batched_annotation_matches_single_item_calls(tmp_path):
    single = run_build(run_config(tmp_path / "one", TaggerScript(initial=THREE)))
    script = TaggerScript(initial=THREE)
    batched = run_build(run_config(tmp_path / "many", script, build={"annotate_items_per_call": 5}))
    assert batched.descriptors == single.descriptors
    assert script.calls.count("annotate") == 10  # 48 items in calls of 5


def test_build_summary_counts_calls(tmp_path):
    config = run_config(tmp_path, TaggerScript())
    run_build(config)
    summary = artifacts.read_json(config.run_dir, artifacts.BUILD_SUMMARY)
    assert summary["llm"]["architect"]["calls"] == 2  # initial proposal + one review
    assert summary["llm"]["annotator"]["calls"] == 48 + 1 + 16  # cycle 1, one change proposal, cycle 2
    assert summary["vocabulary_size"] == 3 and summary["splits"] == 1
