"""One config system: YAML validated by pydantic, in layers, with dotted command-line overrides.

Layers, lowest first: built-in defaults < dataset preset < model preset < LLM preset < YAML file <
``--set key.path=value`` overrides. Presets are YAML files shipped in ``agenticrec/presets/<kind>/<name>.yaml``.
This module holds the machinery and the sections every run shares; the run config that composes the sections
of every layer lives in ``agenticrec.pipeline.config``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agenticrec.data import Dataset, load_dataset
from agenticrec.data.events import with_events
from agenticrec.data.fields import with_item_fields
from agenticrec.errors import ConfigError
from agenticrec.io import atomic_write_text

PRESETS = Path(__file__).parent / "presets"
PresetKind = Literal["datasets", "models", "llm"]
C = TypeVar("C", bound=BaseModel)


class Section(BaseModel):
    """Base for config sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class DataConfig(Section):
    name: str = Field("movielens-100k", description="registered dataset name (see `agenticrec data list`)")
    data_dir: Path | None = Field(
        None, description="root of benchmark data; default $AGENTICREC_DATA_DIR, else ../shared/data if present"
    )
    options: dict[str, Any] = Field(default_factory=dict, description="loader-specific options (paths, columns)")
    item_fields: list[Path] = Field(
        default_factory=list,
        description="tables (Parquet/CSV/JSONL) of item_id plus extra item fields, e.g. a generated signal, joined "
        "onto the catalogue",
    )
    text_fields: list[str] | None = Field(
        None, description="the item fields rendered as item text, in order; default: the dataset's own"
    )
    events: Path | None = Field(
        None,
        description="a served run's event store (RUN/events.sqlite): its interaction events (not dislikes) join the "
        "users' histories in time order, new users included, before the split",
    )
    users: int | None = Field(
        None,
        gt=0,
        description="keep a seeded sample of this many users (the same for every seed), e.g. for the low-fidelity "
        "trials of a search; the catalogue stays whole. None = every user",
    )

    def load(self) -> Dataset:
        dataset = load_dataset(self.name, self.options, self.data_dir)
        if self.item_fields or self.text_fields is not None:
            dataset = with_item_fields(dataset, self.item_fields, self.text_fields)
        if self.events is not None:
            dataset = with_events(dataset, self.events)
        return dataset.sample_users(self.users) if self.users else dataset


class TrainConfig(Section):
    epochs: int = Field(200, gt=0)
    batch_size: int = Field(256, gt=0)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(10, gt=0, description="evaluations without validation NDCG@10 gain before stopping")
    eval_every: int = Field(1, gt=0, description="epochs between validation runs")
    schedule: Literal["constant", "cosine"] = Field(
        "constant", description="learning rate: constant, or cosine decay to 0 over `epochs`"
    )
    max_minutes: float | None = Field(
        None, gt=0, description="stop training after this wall time, mid-epoch if need be (then keep the best)"
    )
    refit: bool = Field(
        False,
        description="after early stopping, retrain from the initial weights for the best epoch count on "
        "every item before the test item (training + validation items) and keep that model; validation metrics "
        "are then not reported, as the validation items were trained on. `max_minutes` bounds the first pass only",
    )
    init_from: Path | None = Field(
        None,
        description="a finished run of the same model whose checkpoint initialises this one, weight by weight "
        "(UniSRec's transfer: pre-train on other datasets, e.g. `data.name=mixed`, then fine-tune here); a table "
        "over another catalogue, such as the item-id embeddings, keeps its fresh initialisation",
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
        None,
        gt=0,
        description="early stopping on a seeded sample of this many validation users (None = all); "
        "test metrics always cover every user",
    )
    test: bool = Field(
        True, description="measure the test users after training; a proxy trial of a search needs validation only"
    )


@dataclass(frozen=True)
class Layer:
    """One source of config values: where they came from (for error messages) and the partial tree."""

    source: str
    tree: dict[str, Any]


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


def read_yaml(path: Path, source: str | None = None) -> Layer:
    """A YAML mapping from ``path`` as a layer."""
    label = source or str(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: not valid YAML ({exc})") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{label}: the top level must be a mapping, got {type(loaded).__name__}")
    return Layer(label, loaded or {})


def preset_names(kind: PresetKind) -> list[str]:
    return sorted(p.stem for p in (PRESETS / kind).glob("*.yaml"))


def preset(kind: PresetKind, name: str) -> Layer:
    """The shipped preset ``presets/<kind>/<name>.yaml``."""
    path = PRESETS / kind / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown {kind} preset {name!r}; shipped: {', '.join(preset_names(kind)) or 'none'}")
    return read_yaml(path, f"{kind} preset {name!r}")


def config_layers(
    path: Path | None = None, overrides: Sequence[str] = (), presets: Sequence[tuple[PresetKind, str]] = ()
) -> list[Layer]:
    """The layers above the defaults, lowest first: presets, the YAML file, then the ``--set`` overrides."""
    layers = [preset(kind, name) for kind, name in presets]
    if path is not None:
        layers.append(read_yaml(path))
    for text in overrides:
        tree: dict[str, Any] = {}
        apply_override(tree, *parse_override(text))
        layers.append(Layer(f"--set {text}", tree))
    return layers


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: mappings merge key by key, any other value replaces."""
    out = dict(base)
    for key, value in top.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def validate_layers(model: type[C], layers: Sequence[Layer]) -> C:
    """Merge ``layers`` over ``model``'s defaults and validate; errors name the layer each bad key came from,
    and an unknown key gets the closest valid one as a suggestion."""
    tree: dict[str, Any] = {}
    for layer in layers:
        tree = merge(tree, layer.tree)
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        errors = [(err, _written(err, tree)) for err in exc.errors()]
        unknown = [written for err, written in errors if err["type"] == "extra_forbidden"]
        valid = _resolved_without(model, tree, unknown)
        lines = [_describe(err, written, layers, valid) for err, written in errors]
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None


def _written(err: Any, tree: dict[str, Any]) -> list[str]:
    """The error's location as the user wrote it: union tags pydantic adds to the location are left out."""
    written: list[str] = []
    node: Any = tree
    loc = [str(part) for part in err["loc"]]
    for k, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            written.append(part)
            node = node[part]
        elif k == len(loc) - 1 or not isinstance(node, dict):
            written.append(part)
    return written


def _resolved_without(model: type[C], tree: dict[str, Any], paths: list[list[str]]) -> dict[str, Any] | None:
    """The resolved config with the unknown keys at ``paths`` removed (None when it is still invalid)."""
    if not paths:
        return None
    pruned = copy.deepcopy(tree)
    for path in paths:
        node: Any = pruned
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    try:
        return model.model_validate(pruned).model_dump()
    except ValidationError:
        return None


def _describe(err: Any, written: list[str], layers: Sequence[Layer], valid: dict[str, Any] | None) -> str:
    """``  key.as.written: message (from SOURCE); did you mean key.as.meant?``"""
    key = ".".join(written) or "(top level)"
    sources = [layer.source for layer in layers if _has_key(layer.tree, written)]
    origin = f" (from {sources[-1]})" if sources else ""
    hint = ""
    if err["type"] == "extra_forbidden" and valid is not None and written:
        parent: Any = valid
        for part in written[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        close = difflib.get_close_matches(written[-1], list(parent), n=1) if isinstance(parent, dict) else []
        if close:
            hint = f"; did you mean {'.'.join([*written[:-1], close[0]])}?"
    return f"  {key}: {err['msg']}{origin}{hint}"


def _has_key(tree: dict[str, Any], path: list[str]) -> bool:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return bool(path)


def save_config(config: BaseModel, run_dir: Path) -> Path:
    """Write the resolved config as ``run_dir/config.yaml`` (atomically)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "config.yaml"
    atomic_write_text(target, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return target
