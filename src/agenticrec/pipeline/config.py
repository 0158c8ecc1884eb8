"""The run config: every layer's section in one validated tree, written to each run directory.

Sections live beside the code they configure (``tagger.config``, ``semantic_ids.config``, each model's package);
the ``model:`` union is built from the model registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from agenticrec.augment.config import AugmentConfig
from agenticrec.config import (
    DataConfig,
    EvaluateConfig,
    PresetKind,
    Section,
    TrainConfig,
    config_layers,
    validate_layers,
)
from agenticrec.evolve.config import EvolveConfig
from agenticrec.intent.config import IntentConfig
from agenticrec.judge.config import JudgeConfig
from agenticrec.llm.config import LLMConfig
from agenticrec.models import ModelConfig, default_model_config
from agenticrec.semantic_ids.config import SemanticIDConfig
from agenticrec.tagger.config import TaggerConfig


class RunConfig(Section):
    run_dir: Path = Field(Path("runs/default"), description="where every artifact of this run is written")
    seed: int = 42
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=default_model_config)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    tagger: TaggerConfig = Field(default_factory=TaggerConfig)
    semantic_ids: SemanticIDConfig = Field(default_factory=SemanticIDConfig)
    intent: IntentConfig = Field(default_factory=IntentConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    evolve: EvolveConfig = Field(default_factory=EvolveConfig)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)


def load_config(
    path: Path | None = None,
    overrides: Sequence[str] = (),
    *,
    data: str | None = None,
    model: str | None = None,
    llm: str | None = None,
) -> RunConfig:
    """A validated run config: defaults < dataset preset < model preset < LLM preset < ``path`` < ``overrides``."""
    requested: list[tuple[PresetKind, str | None]] = [("datasets", data), ("models", model), ("llm", llm)]
    presets = [(kind, name) for kind, name in requested if name]
    return validate_layers(RunConfig, config_layers(path, overrides, presets))
