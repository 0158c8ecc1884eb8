"""McAuley's raw Amazon 2014 files: ``reviews_<Category>_5.json.gz`` and ``meta_<Category>.json.gz``.

Reviews become chronological sequences (``unixReviewTime``, ties in file order) after k-core filtering;
item text comes from the metadata (title, brand, categories, price, description). Metadata lines in the
2014 release are Python literals, not strict JSON; both are accepted.
"""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from agenticrec.data.amazon_s3rec import _join_categories
from agenticrec.data.build import build_dataset, check_unique, k_core
from agenticrec.data.dataset import Dataset
from agenticrec.data.readers import iter_json_lines
from agenticrec.errors import DataError

log = logging.getLogger(__name__)

TEXT_FIELDS = ["title", "brand", "categories", "price", "description"]


class AmazonRawOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviews: Path = Field(description="reviews_<Category>_5.json.gz (or the full reviews file)")
    meta: Path = Field(description="meta_<Category>.json.gz")
    core: int = Field(5, ge=1, description="k-core filter applied to users and items")
    drop_short_users: bool = Field(
        False, description="drop users left with fewer than 3 reviews (possible when core < 3)"
    )


def _parse_meta_line(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return ast.literal_eval(line)


def read_reviews(path: Path) -> pd.DataFrame:
    rows = []
    for number, record in iter_json_lines(path):
        missing = [key for key in ("reviewerID", "asin", "unixReviewTime") if key not in record]
        if missing:
            raise DataError(f"{path}, line {number}: review lacks {', '.join(missing)}")
        try:
            stamp = int(record["unixReviewTime"])
        except (TypeError, ValueError):
            raise DataError(
                f"{path}, line {number}: unixReviewTime {record['unixReviewTime']!r} is not an integer"
            ) from None
        rows.append((record["reviewerID"], record["asin"], stamp, number))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "_record"])


def read_meta(path: Path, wanted: set[str]) -> pd.DataFrame:
    rows = []
    for number, record in iter_json_lines(path, parse=_parse_meta_line):
        if "asin" not in record:
            raise DataError(f"{path}, line {number}: metadata record has no 'asin'")
        if record["asin"] not in wanted:
            continue
        description = record.get("description")
        rows.append(
            {
                "item_id": record["asin"],
                "title": record.get("title"),
                "brand": record.get("brand"),
                "categories": _join_categories(record.get("categories")),
                "price": None if record.get("price") is None else str(record["price"]),
                "description": description[:1000] if isinstance(description, str) else None,
                "_record": number,
            }
        )
    return pd.DataFrame(rows, columns=["item_id", *TEXT_FIELDS, "_record"])


def load(name: str, options: AmazonRawOptions, data_dir: Path | None) -> Dataset:
    reviews = k_core(read_reviews(options.reviews), options.core)
    wanted = set(reviews["item_id"])
    items = read_meta(options.meta, wanted)
    check_unique(items, "item_id", options.meta)
    missing = wanted - set(items["item_id"])
    if missing:
        log.warning(
            "%s: %d reviewed items have no metadata in %s; their text is empty", name, len(missing), options.meta
        )
        items = pd.concat([items, pd.DataFrame({"item_id": sorted(missing), "_record": 0})], ignore_index=True)
    return build_dataset(
        name,
        items,
        reviews,
        items_path=options.meta,
        interactions_path=options.reviews,
        text_fields=TEXT_FIELDS,
        drop_short_users=options.drop_short_users,
        category_field="categories",
        brand_field="brand",
    )
