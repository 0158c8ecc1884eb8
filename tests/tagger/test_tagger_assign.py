"""Assignment: constrained LLM choices, the classifier path, collision resolution, the keyword baseline."""

from __future__ import annotations

import pandas as pd
import pytest
from tagger_testkit import TaggerScript, run_config

from agenticrec.errors import AgenticRecError
from agenticrec.llm import LLMError
from agenticrec.pipeline.stages import tag_assign as run_assign
from agenticrec.pipeline.stages import tag_audit
from agenticrec.pipeline.stages import tag_build as run_build
from agenticrec.pipeline.stages import tag_keywords as run_keywords
from agenticrec.tagger import artifacts
from agenticrec.tagger.assign import assignment_table, collision_figures, degeneracy_warning, descriptor_ids
from agenticrec.tagger.keywords import reused_share
from agenticrec.tagger.vocabulary import Descriptor

THREE = {"fruit": "fresh fruit", "vegetable": "fresh vegetables", "dairy": "milk products"}


def summary(config):
    return artifacts.read_json(config.run_dir, artifacts.ASSIGN_SUMMARY)


@pytest.mark.parametrize("per_call", [1, 4])
def test_llm_assignment_follows_the_annotator(tmp_path, per_call):
    config = run_config(tmp_path, TaggerScript(initial=THREE), assign={"method": "llm", "items_per_call": per_call})
    run_build(config)
    table = run_assign(config)
    kinds = table["item_id"].str.split("-").str[0]
    assert (table["descriptor_names"].str[0] == kinds).all()
    assert set(table["sources"].str[0]) == {"llm"}
    assert summary(config)["llm"]["annotator"]["calls"] == -(-48 // per_call)


def test_an_answer_outside_the_list_is_never_accepted(tmp_path):
    config = run_config(tmp_path, TaggerScript(initial=THREE), assign={"method": "llm"})
    run_build(config)
    liar = run_config(tmp_path, TaggerScript(initial=THREE, off_list="meat"), assign={"method": "llm"})
    with pytest.raises(LLMError, match="20 LLM calls for role 'annotator' failed in a row"):
        run_assign(liar)  # a model that keeps answering off the list stops the stage with a clear error
    liar.llm.abort_after_failures = 100
    table = run_assign(liar)
    assert not any("meat" in names for names in table["descriptor_names"])
    assert set(table["sources"].str[0]) == {"fallback"}  # nearest description embedding instead
    counts = summary(liar)["llm"]["annotator"]
    assert counts["failed"] == counts["calls"] == 48


def test_classifier_labels_the_items_the_annotators_did_not_see(tmp_path):
    config = run_config(
        tmp_path,
        TaggerScript(initial=THREE),
        build={"max_items_per_split": 20},
        assign={"method": "classifier", "labels_per_child": 3, "check_below": 1.0, "max_check_share": 0.25},
    )
    run_build(config)
    table = run_assign(config)
    figures = summary(config)
    assert figures["sources"] == {"build": 20, "classifier": 28 - 7, "check": 7}
    assert figures["checked_items"] == 7 and figures["classifier_heldout_items"] > 0
    kinds = table["item_id"].str.split("-").str[0]
    assert (table["descriptor_names"].str[0] == kinds).mean() > 0.8


def test_assign_refuses_a_vocabulary_of_another_dataset(tmp_path):
    config = run_config(tmp_path, TaggerScript())
    run_build(config)
    vocabulary_path = artifacts.tagger_dir(config.run_dir) / artifacts.VOCABULARY
    vocabulary_path.write_text(vocabulary_path.read_text().replace('"n_items": 48', '"n_items": 47'))
    with pytest.raises(AgenticRecError, match=r"vocabulary\.json changed after `agenticrec tag build` wrote it"):
        run_assign(config)
    (config.run_dir / "provenance.json").unlink()  # a directory from before provenance: the tagger's own check
    with pytest.raises(AgenticRecError, match="built for files \\(47 items\\)"):
        run_assign(config)


def test_collision_resolver_makes_every_semantic_id_unique():
    a = Descriptor(id="1", name="a", description="a", level=1)
    b = Descriptor(id="1.1", name="b", description="b", parent="1", level=2)
    c = Descriptor(id="2", name="c", description="c", level=1)
    paths = [[a, b], [c], [a, b], [a], [a, b]]
    items = [f"i{k}" for k in range(5)]
    table = assignment_table(items, descriptor_ids(items, paths), [["llm"] * len(p) for p in paths])
    assert table["resolver"].tolist() == [0, 0, 1, 0, 2]
    assert table["semantic_id"].tolist() == ["1.1#0", "2#0", "1.1#1", "1#0", "1.1#2"]
    assert collision_figures(table) == {"distinct_paths": 3, "collision_rate": 3 / 5, "largest_bucket": 3}


def test_reused_share_counts_labels_on_more_than_one_item():
    assert reused_share([["x", "y"], ["x", "z"], ["w", "w"]]) == pytest.approx(1 / 4)


def test_keyword_baseline_compares_with_descriptors_on_the_same_items(tmp_path):
    config = run_config(tmp_path, TaggerScript(initial=THREE), keyword_items=12, assign={"method": "llm"})
    run_build(config)
    run_assign(config)
    figures = run_keywords(config)
    table = pd.read_parquet(artifacts.tagger_dir(config.run_dir) / artifacts.KEYWORDS)
    assert len(table) == figures["items"] == 12 and figures["failed"] == 0
    assert figures["unique_keywords"] == len({k for ks in table["keywords"] for k in ks})
    assert figures["descriptor_reused_share"] is not None


def test_a_path_holding_most_items_is_called_degenerate():
    assert degeneracy_warning({"largest_bucket": 50}, 100) is None
    warning = degeneracy_warning({"largest_bucket": 12078}, 12101)
    assert warning is not None and "12078 of 12101 items (100%)" in warning and "llm.backends" in warning


def test_judge_audit_scores_assigned_descriptors_against_random_siblings(tmp_path):
    config = run_config(tmp_path, TaggerScript(initial=THREE), assign={"method": "llm"}, audit_items=10)
    run_build(config)
    run_assign(config)
    figures = tag_audit(config)
    assert figures["pairs"] == figures["judged"] == 20
    assert figures["judge_precision"] == figures["judge_recall"] == 1.0 and figures["fits_share"] == 0.5


def test_a_refused_stage_leaves_no_half_made_run_directory(tmp_path):
    config = run_config(tmp_path, TaggerScript())
    with pytest.raises(AgenticRecError, match=r"reads what `agenticrec tag build` writes"):
        run_assign(config)
    with pytest.raises(AgenticRecError, match=r"run `agenticrec tag assign` first"):
        tag_audit(config)
    assert not config.run_dir.exists()
