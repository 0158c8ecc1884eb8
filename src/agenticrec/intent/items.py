"""Item-level compression: each item's short form, from a field template or, optionally, from an LLM."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agenticrec.data import Dataset
from agenticrec.data.dataset import present
from agenticrec.intent.config import ITEM_COMPRESSOR, IntentConfig
from agenticrec.llm import LLMClient, chat, load_prompt, quote_data


class ShortName(BaseModel):
    name: str = Field(min_length=2, max_length=80)


def leaf(category: str) -> str:
    """``Beauty > Makeup > Nails`` -> ``Nails``."""
    return category.split(">")[-1].strip()


def template_names(dataset: Dataset, config: IntentConfig) -> dict[int, str]:
    """Item index -> the configured fields that the dataset has, joined; the first (the name) cut to
    ``item_chars``."""
    categories = dataset.categories()
    columns = [f for f in config.item_fields if f in dataset.items.columns and f != "category"]
    names = {}
    for index in range(1, dataset.n_items + 1):
        row = dataset.items.iloc[index - 1]
        parts = [" ".join(str(row[f]).split()) for f in columns if present(row[f])]
        if parts and len(parts[0]) > config.item_chars:
            parts[0] = parts[0][: config.item_chars - 1].rstrip() + "…"
        if "category" in config.item_fields and categories is not None and categories[index - 1] != "(none)":
            parts.append(leaf(categories[index - 1]))
        names[index] = " · ".join(dict.fromkeys(parts)) or str(row["item_id"])
    return names


def llm_names(dataset: Dataset, config: IntentConfig, client: LLMClient, items: list[int]) -> dict[int, str]:
    """Every item's template short form, with those of ``items`` rewritten by role ``item_compressor`` (cached in
    the ledger; an item whose call fails keeps its template form)."""
    names = template_names(dataset, config)
    prompt = load_prompt(__file__, "prompts/item_compressor.md").render(chars=config.item_chars)
    requests = [chat(prompt, quote_data(dataset.item_text(i)[:2000])) for i in items]
    for item, result in zip(items, client.batch(ITEM_COMPRESSOR, requests, ShortName)):
        if result.ok and result.value is not None:
            names[item] = result.value.name[: config.item_chars]
    return names
