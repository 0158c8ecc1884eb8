"""The stages a run config drives besides training: the tagger's build, assign and keyword baseline, and the
semantic-ID stage. Each validates its input, writes the resolved config, and hands its own section, an
``LLMClient`` and the ``Dataset`` to the stage code."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agenticrec.config import save_config
from agenticrec.errors import AgenticRecError
from agenticrec.pipeline.config import RunConfig
from agenticrec.semantic_ids import SemanticIDs, build_semantic_ids
from agenticrec.tagger import Tagger, artifacts
from agenticrec.tagger.vocabulary import Vocabulary


def _tagger(config: RunConfig) -> Tagger:
    return Tagger(config.tagger, llm=config.llm, run_dir=config.run_dir, seed=config.seed)


def tag_build(config: RunConfig) -> Vocabulary:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).build(dataset)


def _require(config: RunConfig, name: str, stage: str) -> None:
    """Checked before anything is written, so a stage refused for missing input leaves no half-made run."""
    path = artifacts.tagger_dir(config.run_dir) / name
    if not path.is_file():
        raise AgenticRecError(f"no {name} at {path}; run `agenticrec tag {stage}` first")


def tag_assign(config: RunConfig) -> pd.DataFrame:
    _require(config, artifacts.VOCABULARY, "build")
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).assign(dataset)


def tag_keywords(config: RunConfig) -> dict[str, Any]:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).keywords(dataset)


def tag_audit(config: RunConfig) -> dict[str, Any]:
    _require(config, artifacts.ASSIGNMENTS, "assign")
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).audit(dataset)


def ids_build(config: RunConfig) -> SemanticIDs:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return build_semantic_ids(dataset, config.semantic_ids, config.run_dir, config.seed)
