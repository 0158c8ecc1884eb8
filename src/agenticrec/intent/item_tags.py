"""TAR's training tags from an LLM (RecGPT §2.3): role ``item_tagger`` writes a few short tags per item, once
(cached in the ledger). Tags are cleaned (at most ``item_tag_words`` words, no copy of the title, no duplicates);
an item whose call fails or whose tags are all removed keeps its category tags. Writes
``RUN_DIR/intent/item_tags.parquet`` (item_id, tags, source), which TAR reads with ``model.tags: table``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from agenticrec.data import Dataset
from agenticrec.intent import artifacts
from agenticrec.intent.config import ITEM_TAGGER, IntentConfig
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, chat, load_prompt, quote_data
from agenticrec.models.tar.tags import category_tags


class ItemTags(BaseModel):
    tags: list[str]


def clean_tags(tags: list[str], title: str, words: int) -> list[str]:
    """Lower-cased tags of 1..``words`` words that are not the title (or a run of it), without duplicates."""
    title = " ".join(title.lower().split())
    kept = []
    for tag in tags:
        tag = " ".join(tag.lower().strip(" .,;:\"'").split())
        if tag and len(tag.split()) <= words and not (len(tag.split()) > 2 and tag in title) and tag != title:
            kept.append(tag)
    return list(dict.fromkeys(kept))


def run_item_tags(dataset: Dataset, config: IntentConfig, client: LLMClient, run_dir: Path) -> dict[str, Any]:
    """Tag every item (see the module doc); a summary of how many tags came from the LLM."""
    prompt = load_prompt(__file__, "prompts/item_tagger.md").render(tags=config.item_tags, words=config.item_tag_words)
    texts = dataset.item_texts()
    results = client.batch(ITEM_TAGGER, [chat(prompt, quote_data(text[:2000])) for text in texts], ItemTags)
    fallback = category_tags(dataset) if dataset.categories() is not None else [[] for _ in texts]
    rows = []
    for index, (item_id, result) in enumerate(zip(dataset.item_ids(), results)):
        title = dataset.title(index + 1)
        tags = clean_tags(result.value.tags, title, config.item_tag_words) if result.ok and result.value else []
        rows.append(
            {
                "item_id": item_id,
                "tags": tags[: config.item_tags] if tags else fallback[index],
                "source": "llm" if tags else "category",
            }
        )
    table = pd.DataFrame(rows)
    artifacts.write_table(run_dir, artifacts.ITEM_TAGS, table)
    summary = {
        "items": len(table),
        "tagged_by_llm": int((table["source"] == "llm").sum()),
        "failed_calls": sum(not r.ok for r in results),
        "tags_per_item_mean": float(table["tags"].map(len).mean()),
        "distinct_tags": len({t for tags in table["tags"] for t in tags}),
        "use": f"model.tags=table model.tag_table={artifacts.intent_dir(run_dir) / artifacts.ITEM_TAGS}",
    }
    write_json(artifacts.intent_dir(run_dir) / artifacts.ITEM_TAGGING, summary)
    return summary
