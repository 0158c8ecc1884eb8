"""One config system: YAML files validated by pydantic, with dotted command-line overrides.

Layers, lowest first: built-in defaults < YAML file < ``--set key.path=value`` overrides.
The resolved config is written to every run directory as ``config.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from agenticrec.errors import ConfigError
from agenticrec.llm.config import LLMConfig
from agenticrec.semantic_ids.config import SemanticIDConfig
from agenticrec.tagger.config import TaggerConfig


class Section(BaseModel):
    """Base for config sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class DataConfig(Section):
    name: str = Field("movielens-100k", description="registered dataset name (see `agenticrec data list`)")
    data_dir: Path | None = Field(
        None, description="root of benchmark data; default $AGENTICREC_DATA_DIR, else ../shared/data if present"
    )
    options: dict[str, Any] = Field(default_factory=dict, description="loader-specific options (paths, columns)")


class PopularityConfig(Section):
    name: Literal["popularity"] = "popularity"


class SASRecConfig(Section):
    name: Literal["sasrec"] = "sasrec"
    loss: Literal["bce", "ce", "sampled_softmax"] = Field(
        "ce", description="bce: one sampled negative per position (original SASRec); ce: full-softmax cross-entropy; "
        "sampled_softmax: softmax over the target and `negatives` uniformly sampled items"
    )
    negatives: int = Field(256, gt=0, description="sampled_softmax: negatives per target")
    negatives_per: Literal["position", "sequence"] = Field(
        "sequence", description="sampled_softmax: fresh negatives for every target, or one draw per sequence shared "
        "by its positions (cheaper)"
    )
    hidden_size: int = Field(64, gt=0)
    num_layers: int = Field(2, gt=0)
    num_heads: int = Field(2, gt=0)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    item_dropout: float = Field(
        0.0, ge=0.0, lt=1.0, description="dropout on the item embedding table in training (it also scores the outputs)"
    )
    max_len: int = Field(50, gt=1, description="most recent items the model sees")
    pre_norm: bool = Field(
        False, description="pre-norm blocks and a final LayerNorm (original SASRec code) instead of post-norm (S3-Rec)"
    )
    semantic_id_features: bool = Field(
        False, description="add the embeddings of the item's semantic-ID tokens (see `semantic_ids:`, resolver "
        "excluded) to its id embedding"
    )


class GenerativeConfig(Section):
    """Encoder-decoder over semantic-ID tokens (TIGER / AgenticTagger settings), decoded by trie-constrained beam search."""

    name: Literal["generative"] = "generative"
    num_layers: int = Field(4, gt=0, description="encoder layers and decoder layers")
    d_model: int = Field(128, gt=0)
    d_ff: int = Field(1024, gt=0)
    num_heads: int = Field(6, gt=0)
    d_kv: int = Field(64, gt=0, description="width of each attention head")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    max_items: int = Field(20, gt=0, description="most recent history items the encoder reads")
    examples_per_user: int | None = Field(
        None, gt=0, description="train on each user's most recent next-item examples only (None = all); "
        "bounds the cost of long histories on a CPU"
    )
    beam: int = Field(20, gt=0, description="beam width; the ranked list has at most this many items")


def _model_name(value: Any) -> str:
    """Which model section this is; a section without ``name`` is SASRec, the default model."""
    return value.get("name", "sasrec") if isinstance(value, dict) else value.name


ModelConfig = Annotated[
    Annotated[PopularityConfig, Tag("popularity")]
    | Annotated[SASRecConfig, Tag("sasrec")]
    | Annotated[GenerativeConfig, Tag("generative")],
    Discriminator(_model_name),
]


class TrainConfig(Section):
    epochs: int = Field(200, gt=0)
    batch_size: int = Field(256, gt=0)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(10, gt=0, description="evaluations without validation NDCG@10 gain before stopping")
    eval_every: int = Field(1, gt=0, description="epochs between validation runs")
    schedule: Literal["constant", "cosine"] = Field("constant", description="learning rate: constant, or cosine "
                                                    "decay to 0 over `epochs`")
    max_minutes: float | None = Field(
        None, gt=0, description="stop training after this wall time, mid-epoch if need be (then keep the best)"
    )
    refit: bool = Field(
        False, description="after early stopping, retrain from the initial weights for the best epoch count on "
        "every item before the test item (training + validation items) and keep that model; validation metrics "
        "are then not reported, as the validation items were trained on. `max_minutes` bounds the first pass only"
    )
    device: str = Field("auto", description="auto, cpu or cuda")
    threads: int | None = Field(None, description="torch CPU threads; default all cores")


class EvaluateConfig(Section):
    ks: list[int] = Field(default_factory=lambda: [5, 10, 20])
    mask_history: bool = Field(
        False, description="exclude items already in the user's history from the ranking (TIGER protocol: False)"
    )
    batch_size: int = Field(1024, gt=0)
    valid_users: int | None = Field(
        None, gt=0, description="early stopping on a seeded sample of this many validation users (None = all); "
        "test metrics always cover every user"
    )


class RunConfig(Section):
    run_dir: Path = Field(Path("runs/default"), description="where every artifact of this run is written")
    seed: int = 42
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=SASRecConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    tagger: TaggerConfig = Field(default_factory=TaggerConfig)
    semantic_ids: SemanticIDConfig = Field(default_factory=SemanticIDConfig)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a YAML-typed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} must look like key.path=value")
    try:
        value = yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: value is not valid YAML ({exc})") from None
    return key.strip().split("."), value


def apply_override(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Build a validated RunConfig from an optional YAML file and ``key=value`` overrides."""
    tree: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping, got {type(loaded).__name__}")
        tree = loaded or {}
    for text in overrides or []:
        apply_override(tree, *parse_override(text))
    try:
        return RunConfig.model_validate(tree)
    except ValidationError as exc:
        source = f" in {path}" if path else ""
        raise ConfigError(f"invalid config{source}:\n{_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def save_config(config: RunConfig, run_dir: Path) -> Path:
    """Write the resolved config as ``run_dir/config.yaml`` (atomically)."""
    from agenticrec.io import atomic_write_text

    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "config.yaml"
    atomic_write_text(target, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return target
