"""What built a run directory, and the one check every stage passes before it writes anything.

``RUN_DIR/provenance.json`` records the dataset (name, options and a content hash of its items and interactions),
and, per finished stage, the config keys that shaped its artifacts (its own and those of the stages it read from)
and the files it wrote. A stage is refused, naming what differs, when the dataset differs from the recorded one,
when a file a finished stage wrote has changed since, or when the config disagrees with a key that shaped an
artifact of another stage. So ``config.yaml``, written with the record when a stage succeeds, always describes
every artifact beside it. ``fresh`` starts the directory over (the LLM ledger stays: it is keyed by the request).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, Field

from agenticrec.config import save_config
from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.io import atomic_write_text, file_sha256
from agenticrec.llm import LLMClient
from agenticrec.pipeline.config import RunConfig

log = logging.getLogger(__name__)
PROVENANCE = "provenance.json"
CONFIG = "config.yaml"


@dataclass(frozen=True)
class StageSpec:
    """A stage's config keys (dotted prefixes) that shape its artifacts, the stages whose artifacts it reads, and
    whether it calls an LLM."""

    keys: tuple[str, ...]
    after: tuple[str, ...] = ()
    llm: bool = True


_COMPRESSION = ("intent.behaviours", "intent.default_behaviour", "intent.reliable", "intent.item_fields",
                "intent.item_chars", "intent.llm_item_compression", "intent.position_buckets", "intent.prompt_budget",
                "intent.users")  # fmt: skip
_EXPLANATION = (
    "intent.explain_items",
    "intent.explain_mode",
    "intent.explain_phrases",
    "intent.explain_words",
    "intent.explain_revisions",
    "intent.explain_judge_pairs",
)

STAGES: dict[str, StageSpec] = {
    "tag build": StageSpec(("seed", "tagger.embedding_model", "tagger.max_text_chars", "tagger.build")),
    "tag assign": StageSpec(("tagger.assign",), after=("tag build",)),
    "tag keywords": StageSpec(("seed", "tagger.max_text_chars", "tagger.keyword_items")),
    "tag audit": StageSpec(("tagger.audit_items",), after=("tag assign",)),
    "ids build": StageSpec(("seed", "semantic_ids"), llm=False),
    "intent compress": StageSpec(("seed", *_COMPRESSION)),
    "intent item-tags": StageSpec(
        ("intent.item_fields", "intent.item_chars", "intent.item_tags", "intent.item_tag_words")
    ),
    "intent mine": StageSpec(
        ("intent.mining", "intent.min_interests", "intent.max_interests"), after=("intent compress",)
    ),
    "intent tags": StageSpec(
        ("intent.tags", "intent.tar_run", "intent.tagger_run", "intent.prior_weight", "intent.embedding_model"),
        after=("intent mine",),
    ),
    "intent evaluate": StageSpec(("intent.hit_ks",), after=("intent tags",), llm=False),
    "intent score": StageSpec(("intent.candidates",), after=("intent compress",)),
    "intent hybrid": StageSpec(
        ("intent.candidates", "intent.hit_ks", "intent.embedding_model"), after=("intent compress",), llm=False
    ),
    "intent curate": StageSpec(("intent.max_per_category", "judge"), after=("intent tags",)),
    "explain build": StageSpec((*_EXPLANATION, "judge"), after=("intent mine",)),
    "judge run": StageSpec(("judge",), after=("intent tags",)),
    "augment propose": StageSpec(("seed", "augment.proposals", "augment.sample_items", "augment.duplicate_similarity")),
    "augment generate": StageSpec(
        ("augment.signal", "augment.words", "augment.consistency"), after=("augment propose",)
    ),
    "augment diversity": StageSpec(
        ("augment.thresholds", "augment.crowded_share", "augment.embedding_model"),
        after=("augment generate",),
        llm=False,
    ),
    "augment rank-llm": StageSpec(("seed", "augment.ranker")),
    "evolve run": StageSpec(("seed", "evolve", "model", "train", "evaluate"), llm=False),  # its own client
}

RUN_ONLY = frozenset({"train.threads", "train.device", "evaluate.batch_size", "evolve.executor", "evolve.ray_address",
                      "evolve.ray_workers"})  # fmt: skip
"""Keys under a stage's prefixes that change how it runs, not what it writes."""

_NOT_ARTIFACTS = (PROVENANCE, CONFIG)
_CACHE = "cache"  # what stages derive once from the data (text embeddings): deleting it loses nothing


class StageRecord(BaseModel):
    config: dict[str, Any] = Field(description="the dotted config keys that shaped the stage's artifacts")
    files: dict[str, str] = Field(description="run-directory path -> sha256 of each file the stage wrote")


class Provenance(BaseModel):
    dataset: dict[str, Any]
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    adopted: bool = Field(False, description="the directory was built before provenance was recorded")


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A nested config dump as dotted leaf keys (lists and empty dicts are leaves)."""
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: tree}


def shaping_keys(config: RunConfig, prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The config's leaves under ``prefixes``, run-only keys left out."""
    flat = flatten(config.model_dump(mode="json"))
    return {key: value for key, value in flat.items() if key not in RUN_ONLY
            and any(key == p or key.startswith(p + ".") for p in prefixes)}  # fmt: skip


def dataset_fingerprint(config: RunConfig, dataset: Dataset) -> dict[str, Any]:
    """The dataset's name, options and a sha256 of its items, users and interactions (as loaded)."""
    digest = hashlib.sha256()
    items = dataset.items
    digest.update(json.dumps([str(c) for c in items.columns]).encode())
    digest.update(pd.util.hash_pandas_object(items.astype(str), index=False).to_numpy().tobytes())
    digest.update("\n".join(dataset.user_ids).encode())
    for events in (dataset.sequences, dataset.timestamps or [], dataset.behaviours or []):
        for row in events:
            digest.update(np.asarray(row).astype(str).tobytes() + b"|")
    data = config.data.model_dump(mode="json")
    return {"name": dataset.name, "options": {k: v for k, v in data.items() if k not in ("name", "data_dir")},
            "sha256": digest.hexdigest()}  # fmt: skip


def _ledger_file(path: Path, ledger: str) -> bool:
    return path.name == ledger or path.name.startswith(ledger + "-")


def _files(run_dir: Path, ledger: str) -> dict[str, tuple[int, int]]:
    """Run-directory file -> (size, mtime_ns), the ledger and the records left out."""
    if not run_dir.is_dir():
        return {}
    files = {}
    for path in run_dir.rglob("*"):
        relative = path.relative_to(run_dir)
        if path.is_file() and relative.parts[0] not in (*_NOT_ARTIFACTS, _CACHE) and not _ledger_file(path, ledger):
            files[str(relative)] = (path.stat().st_size, path.stat().st_mtime_ns)
    return files


def read_provenance(run_dir: Path) -> Provenance | None:
    path = run_dir / PROVENANCE
    if not path.is_file():
        return None
    try:
        return Provenance.model_validate_json(path.read_text())
    except ValueError as err:
        raise AgenticRecError(f"{path} is not a provenance record ({err.__class__.__name__}); use --fresh") from None


def _refuse(run_dir: Path, what: str) -> AgenticRecError:
    return AgenticRecError(f"{run_dir}: {what}; pass --fresh to start it over, or choose another --run-dir")


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _comparable(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint without unset options: a record made before an option existed matches it left unset."""
    options = {k: v for k, v in fingerprint.get("options", {}).items() if v is not None}
    return {**fingerprint, "options": options}


def _dataset_difference(was: dict[str, Any], now: dict[str, Any]) -> str:
    """How the recorded dataset differs from this one, in words: the name, an option, or the content."""
    if was.get("name") != now["name"]:
        return f"dataset {was.get('name')}, not {now['name']}"
    old, new = flatten(was.get("options", {}), "data"), flatten(now["options"], "data")
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            return f"{now['name']} with {key}={_short(old.get(key), 200)}, not {_short(new.get(key), 200)}"
    hashes = f"{str(was.get('sha256'))[:12]}, not {now['sha256'][:12]}"
    return f"{now['name']} with other content (items and interactions sha256 {hashes})"


def check(config: RunConfig, dataset: Dataset, stage: str) -> Provenance:
    """The run directory's record, refused with the first input that differs from this stage's inputs."""
    spec, run_dir = STAGES[stage], config.run_dir
    fingerprint = dataset_fingerprint(config, dataset)
    record = read_provenance(run_dir)
    if record is None:
        legacy = run_dir / CONFIG
        if legacy.is_file():  # made before provenance was recorded: its config names the dataset
            data = (yaml.safe_load(legacy.read_text()) or {}).get("data", {})
            if data.get("name") not in (None, dataset.name):
                raise _refuse(run_dir, f"it was built from dataset {data['name']}, not {dataset.name}")
        record = Provenance(dataset=fingerprint, adopted=legacy.is_file())
    elif _comparable(record.dataset) != _comparable(fingerprint):
        raise _refuse(run_dir, f"it was built from {_dataset_difference(record.dataset, fingerprint)}")
    if not record.adopted:
        missing = [name for name in spec.after if name not in record.stages]
        if missing:
            raise AgenticRecError(
                f"`agenticrec {stage}` reads what `agenticrec {missing[0]}` writes, and {run_dir} has none; "
                f"run `agenticrec {missing[0]}` first"
            )
    current = flatten(config.model_dump(mode="json"))
    for name, done in record.stages.items():
        if name == stage:  # rebuilt here: a killed earlier run of it may have left its files half-updated
            continue
        for path, sha in done.files.items():
            if not (run_dir / path).is_file() or file_sha256(run_dir / path) != sha:
                raise _refuse(run_dir, f"{path} changed after `agenticrec {name}` wrote it")
        for key, value in done.config.items():
            if current.get(key) != value:
                raise _refuse(run_dir, f"{key} is {_short(current.get(key))} here, but {_short(value)} shaped "
                                       f"what `agenticrec {name}` wrote")  # fmt: skip
    return record


def commit(config: RunConfig, record: Provenance, stage: str, before: dict[str, tuple[int, int]]) -> None:
    """Record the finished stage (its keys, and those of the stages it read) and the files it wrote, then the
    config beside them."""
    run_dir = config.run_dir
    after = _files(run_dir, config.llm.ledger)
    written = {path: file_sha256(run_dir / path) for path, stat in after.items() if before.get(path) != stat}
    keys = shaping_keys(config, STAGES[stage].keys)
    for name in STAGES[stage].after:
        if name in record.stages:
            keys |= record.stages[name].config
    previous = record.stages.get(stage)
    files = {p: s for p, s in (previous.files if previous else {}).items() if p in after} | written
    for name, done in record.stages.items():  # a file rewritten here belongs to this stage now
        if name != stage:
            done.files = {p: s for p, s in done.files.items() if p not in written}
    record.stages[stage] = StageRecord(config=keys, files=files)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / PROVENANCE, record.model_dump_json(indent=1))
    save_config(config, run_dir)


def start_over(run_dir: Path, ledger: str) -> None:
    """``--fresh``: remove everything in the run directory but the LLM ledger, and say what went."""
    if not run_dir.is_dir():
        return
    removed = [p for p in sorted(run_dir.iterdir()) if not _ledger_file(p, ledger)]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if removed:
        log.warning("--fresh: removed %s from %s (the LLM ledger stays)", ", ".join(p.name for p in removed), run_dir)


@dataclass
class StageRun:
    config: RunConfig
    dataset: Dataset
    client: LLMClient | None

    @property
    def llm(self) -> LLMClient:
        """The stage's LLM client (stages declared with ``llm=False`` have none)."""
        if self.client is None:
            raise RuntimeError("this stage is declared without an LLM (see STAGES)")
        return self.client


@contextmanager
def stage_run(config: RunConfig, stage: str, *, fresh: bool = False) -> Iterator[StageRun]:
    """Load the dataset, check the run directory against this stage's inputs and the LLM's credentials and
    reachability (before anything is written), hand over an LLM client on the run's ledger, and record the stage
    with ``config.yaml`` once it has succeeded. A refused or failed stage leaves ``config.yaml`` as it was."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    dataset = config.data.load()
    if fresh:
        start_over(config.run_dir, config.llm.ledger)
    record = check(config, dataset, stage)
    before = _files(config.run_dir, config.llm.ledger)
    if not STAGES[stage].llm:
        yield StageRun(config, dataset, None)
    else:
        with LLMClient(config.llm, config.run_dir) as client:
            client.preflight()
            yield StageRun(config, dataset, client)
    commit(config, record, stage, before)
