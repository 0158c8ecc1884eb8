"""The dataset registry: adding a dataset is one loader module plus one line in ``DATASETS``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agenticrec.data import amazon_office, amazon_raw, amazon_s3rec, amazon_scientific, files, mixed, movielens
from agenticrec.data.dataset import Dataset
from agenticrec.errors import ConfigError, DataError

Loader = Callable[[str, Any, Path | None], Dataset]


@dataclass(frozen=True)
class DatasetSpec:
    description: str
    loader: Loader
    options: type[BaseModel]
    defaults: dict[str, Any] = field(default_factory=dict)


DATASETS: dict[str, DatasetSpec] = {
    "amazon-beauty": DatasetSpec(
        "Amazon 2014 Beauty 5-core, S3-Rec/P5/TIGER files (22,363 users, 12,101 items)",
        amazon_s3rec.load,
        amazon_s3rec.S3RecOptions,
        {
            "folder": "amazon2014-beauty-5core",
            "sequence_file": "Beauty.txt",
            "text_fields": ["title", "brand", "categories"],
        },
    ),
    "amazon-sports": DatasetSpec(
        "Amazon 2014 Sports and Outdoors 5-core, S3-Rec/P5/TIGER files (35,598 users, 18,357 items; no titles)",
        amazon_s3rec.load,
        amazon_s3rec.S3RecOptions,
        {
            "folder": "amazon2014-sports-5core",
            "sequence_file": "Sports_and_Outdoors.txt",
            "text_fields": ["brand", "categories", "keywords"],
        },
    ),
    "amazon-office": DatasetSpec(
        "Amazon 2014 Office Products 5-core with timestamps, ReChorus/LRD files (4,905 users, 2,420 items)",
        amazon_office.load,
        amazon_office.OfficeOptions,
    ),
    "amazon-scientific": DatasetSpec(
        "Amazon 2018 Industrial & Scientific 5-core, UniSRec/RecFormer files (8,442 users, 4,385 items)",
        amazon_scientific.load,
        amazon_scientific.ScientificOptions,
    ),
    "amazon-raw": DatasetSpec(
        "McAuley's raw Amazon 2014 reviews_<Cat>_5.json.gz + meta_<Cat>.json.gz (options: reviews, meta, core)",
        amazon_raw.load,
        amazon_raw.AmazonRawOptions,
    ),
    "movielens-100k": DatasetSpec(
        "MovieLens-100k from the recbole package, or a GroupLens ml-100k folder (option: path)",
        movielens.load,
        movielens.MovieLensOptions,
    ),
    "mixed": DatasetSpec(
        "several datasets as one, ids prefixed by dataset (option: datasets), e.g. to pre-train a text model",
        mixed.load,
        mixed.MixedOptions,
    ),
    "files": DatasetSpec(
        "your own items + interactions files (JSONL/CSV/TSV/Parquet) with a column mapping",
        files.load,
        files.FilesOptions,
    ),
}


def default_data_dir() -> Path | None:
    """``$AGENTICREC_DATA_DIR``, else ``../shared/data`` beside the working directory or the source checkout."""
    if env := os.environ.get("AGENTICREC_DATA_DIR"):
        return Path(env)
    checkout = Path(__file__).resolve().parents[3]
    for candidate in (Path.cwd().parent / "shared" / "data", checkout.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def load_dataset(name: str, options: dict[str, Any] | None = None, data_dir: Path | None = None) -> Dataset:
    """Load a registered dataset by name with loader options (validated against the loader's schema)."""
    spec = DATASETS.get(name)
    if spec is None:
        raise DataError(f"unknown dataset {name!r}; registered: {', '.join(sorted(DATASETS))}")
    try:
        parsed = spec.options.model_validate({**spec.defaults, **(options or {})})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"data.options for {name!r}: {problems}") from None
    return spec.loader(name, parsed, data_dir or default_data_dir())
