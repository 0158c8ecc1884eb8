"""The stages a run config drives besides training: the tagger's build, assign and keyword baseline, and the
semantic-ID stage. Each validates its input, writes the resolved config, and hands its own section, an
``LLMClient`` and the ``Dataset`` to the stage code."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agenticrec.config import save_config
from agenticrec.pipeline.config import RunConfig
from agenticrec.semantic_ids import SemanticIDs, build_semantic_ids
from agenticrec.tagger import Tagger
from agenticrec.tagger.vocabulary import Vocabulary


def _tagger(config: RunConfig) -> Tagger:
    return Tagger(config.tagger, llm=config.llm, run_dir=config.run_dir, seed=config.seed)


def tag_build(config: RunConfig) -> Vocabulary:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).build(dataset)


def tag_assign(config: RunConfig) -> pd.DataFrame:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).assign(dataset)


def tag_keywords(config: RunConfig) -> dict[str, Any]:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).keywords(dataset)


def tag_audit(config: RunConfig) -> dict[str, Any]:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return _tagger(config).audit(dataset)


def ids_build(config: RunConfig) -> SemanticIDs:
    dataset = config.data.load()
    save_config(config, config.run_dir)
    return build_semantic_ids(dataset, config.semantic_ids, config.run_dir, config.seed)
