"""TAR's LLM item tags (role `item_tagger`) with a scripted LLM: cleaning, the category fallback, the table
artifact, and TAR reading it (`model.tags: table`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agenticrec.errors import DataError
from agenticrec.intent import artifacts
from agenticrec.intent.item_tags import clean_tags, run_item_tags
from agenticrec.llm import LLMClient
from agenticrec.models.tar.tags import table_tags
from agenticrec.pipeline import load_config
from agenticrec.testing.catalogues import files_catalogue


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    user = " ".join(m["content"] for m in messages)
    if "green tea 2" in user:
        return "not json at all"  # a failed call (repairs too): the item keeps its category tags
    if "black tea" in user:
        return json.dumps(
            {"tags": ["Black Tea 1", "breakfast tea", "strong morning tea for waking up", "breakfast tea"]}
        )
    return json.dumps({"tags": ["loose leaf tea", "green tea"]})


def test_clean_tags_drops_long_tags_titles_and_repeats():
    tags = ["Green Tea.", "a very long tag that is a sentence", "green tea", "Sencha Green Tea Leaves", "gift"]
    assert clean_tags(tags, title="Sencha green tea leaves", words=4) == ["green tea", "gift"]


def test_item_tags_with_fallback_and_tar_reads_the_table(tmp_path: Path):
    items = pd.DataFrame(
        {
            "item_id": ["g1", "g2", "b1"],
            "title": ["green tea 1", "green tea 2", "black tea 1"],
            "categories": ["Shop > Tea > Green", "Shop > Tea > Green", "Shop > Tea > Black"],
        }
    )
    events = [(f"u{u}", i) for u in range(4) for i in ("g1", "g2", "b1")]
    data = files_catalogue(tmp_path, items, events, category_field="categories")
    config = load_config(None, [*data, f"run_dir={tmp_path / 'run'}", "llm.retry.max_attempts=1"])
    config.llm = config.llm.model_validate(
        {"backends": {"s": {"kind": "scripted", "script": script}}, "default": {"backend": "s"}, "progress": False}
    )
    dataset = config.data.load()
    with LLMClient(config.llm, config.run_dir) as client:
        summary = run_item_tags(dataset, config.intent, client, config.run_dir)
    assert summary["items"] == 3 and summary["tagged_by_llm"] == 2 and summary["failed_calls"] == 1
    table = artifacts.read_table(config.run_dir, artifacts.ITEM_TAGS)
    by_item = {row.item_id: (list(row.tags), row.source) for row in table.itertuples()}
    assert by_item["g1"] == (["loose leaf tea", "green tea"], "llm")
    assert by_item["g2"] == (["Tea", "Green"], "category")
    assert by_item["b1"] == (["breakfast tea"], "llm")  # the title copy, the sentence and the repeat removed
    path = artifacts.intent_dir(config.run_dir) / artifacts.ITEM_TAGS
    assert table_tags(dataset, path) == [by_item["g1"][0], by_item["g2"][0], by_item["b1"][0]]
    tar = load_config(None, ["model.name=tar", "model.tags=table", f"model.tag_table={path}"])
    assert tar.model.tag_table == path
    with pytest.raises(Exception, match="tags: table goes with tag_table"):
        load_config(None, ["model.name=tar", "model.tags=table"])
    pd.DataFrame({"item_id": ["nope"], "tags": [["x"]]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(DataError, match="unknown item id 'nope'"):
        table_tags(dataset, tmp_path / "other.parquet")
