"""The stages a run config drives besides training: the tagger's build, assign and keyword baseline, and the
semantic-ID stage. Each runs inside `stage_run` (the input checks first, the config written on success) and hands
its own section, an ``LLMClient`` and the ``Dataset`` to the stage code."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agenticrec.errors import AgenticRecError
from agenticrec.pipeline.config import RunConfig
from agenticrec.pipeline.provenance import StageRun, stage_run
from agenticrec.semantic_ids import SemanticIDs, build_semantic_ids
from agenticrec.tagger import Tagger, artifacts
from agenticrec.tagger.vocabulary import Vocabulary


def _tagger(run: StageRun) -> Tagger:
    config = run.config
    return Tagger(config.tagger, llm=config.llm, run_dir=config.run_dir, seed=config.seed, client=run.client)


def tag_build(config: RunConfig, fresh: bool = False) -> Vocabulary:
    with stage_run(config, "tag build", fresh=fresh) as run:
        return _tagger(run).build(run.dataset)


def _require(config: RunConfig, name: str, stage: str) -> None:
    """Checked before the stage does any work (a run directory adopted from before provenance was recorded
    is not checked for its upstream stages)."""
    path = artifacts.tagger_dir(config.run_dir) / name
    if not path.is_file():
        raise AgenticRecError(f"no {name} at {path}; run `agenticrec tag {stage}` first")


def tag_assign(config: RunConfig, fresh: bool = False) -> pd.DataFrame:
    with stage_run(config, "tag assign", fresh=fresh) as run:
        _require(config, artifacts.VOCABULARY, "build")
        return _tagger(run).assign(run.dataset)


def tag_keywords(config: RunConfig, fresh: bool = False) -> dict[str, Any]:
    with stage_run(config, "tag keywords", fresh=fresh) as run:
        return _tagger(run).keywords(run.dataset)


def tag_audit(config: RunConfig, fresh: bool = False) -> dict[str, Any]:
    with stage_run(config, "tag audit", fresh=fresh) as run:
        _require(config, artifacts.ASSIGNMENTS, "assign")
        return _tagger(run).audit(run.dataset)


def ids_build(config: RunConfig, fresh: bool = False) -> SemanticIDs:
    with stage_run(config, "ids build", fresh=fresh) as run:
        return build_semantic_ids(run.dataset, config.semantic_ids, config.run_dir, config.seed)
