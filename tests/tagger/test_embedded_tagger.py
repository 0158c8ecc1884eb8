"""The real embedded model (SmolLM2-135M through llama.cpp) builds and assigns a vocabulary for a handful of items."""

from __future__ import annotations

import pytest
from tagger_testkit import write_catalogue

from agenticrec.pipeline import RunConfig
from agenticrec.pipeline.stages import tag_assign as run_assign
from agenticrec.pipeline.stages import tag_build as run_build


@pytest.mark.slow
def test_smollm2_builds_and_assigns(tmp_path):
    config = RunConfig.model_validate(
        {
            "run_dir": str(tmp_path / "run"),
            "data": write_catalogue(tmp_path / "data", copies=1),
            "llm": {"progress": False},
            "tagger": {
                "build": {
                    "max_depth": 1,
                    "split_threshold": 5,
                    "initial_children": 3,
                    "max_cycles": 1,
                    "architect": "grouped",
                    "labels": "groups",
                    "distill_samples": 6,
                },
                "assign": {"method": "llm"},
            },
        }
    )
    vocabulary = run_build(config)
    names = {d.name for d in vocabulary.children(None)}
    assert len(names) >= 1 and vocabulary.depth() == 1
    table = run_assign(config)
    assert len(table) == 24
    assert all(len(path) == 1 and path[0] in names for path in table["descriptor_names"])
    assert table["semantic_id"].is_unique
