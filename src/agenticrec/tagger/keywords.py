"""The free-form baseline: the LLM writes three keywords per item, with no vocabulary to choose from.

The paper contrasts the reuse of such keywords (24% used by more than one item) with the utilisation of
AgenticTagger's descriptors (87%); both shares are measured here on the same seeded sample of items.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, Field

from agenticrec.data import Dataset
from agenticrec.io import atomic_path, write_json
from agenticrec.llm import LLMClient, chat, load_prompt, quote_data
from agenticrec.tagger import artifacts
from agenticrec.tagger.agents import ANNOTATOR
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.context import open_context


class Keywords(BaseModel):
    keywords: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=3, max_length=3)


MAX_TOKENS = 64
"""Three short keywords fit easily; the cap stops small models that ramble inside the JSON."""


def normalise(keyword: str) -> str:
    return " ".join(keyword.casefold().replace("_", " ").replace("-", " ").split())


def reused_share(labels_per_item: list[list[str]]) -> float:
    """Share of distinct labels that more than one item carries."""
    counts = Counter(label for labels in labels_per_item for label in set(labels))
    return sum(c > 1 for c in counts.values()) / len(counts) if counts else 0.0


def run_keywords(dataset: Dataset, config: TaggerConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """The `tag keywords` stage: keywords for a sample of items, compared with their descriptors."""
    out = artifacts.tagger_dir(run_dir)
    ctx = open_context(dataset, config, client, run_dir, seed)
    n = min(config.keyword_items, len(ctx.texts))
    sample = sorted(ctx.rng("keywords").choice(len(ctx.texts), n, replace=False).tolist())
    system = load_prompt(__file__, "prompts/keywords.md").render()
    limit = config.max_text_chars
    requests = [chat(system, quote_data(" ".join(ctx.texts[i].split())[:limit])) for i in sample]
    results = ctx.client.batch(ANNOTATOR, requests, Keywords, params={"max_tokens": MAX_TOKENS})
    done = [(i, [normalise(k) for k in r.value.keywords]) for i, r in zip(sample, results) if r.value is not None]
    table = pd.DataFrame({"item_id": [ctx.item_ids[i] for i, _ in done], "keywords": [k for _, k in done]})
    with atomic_path(out / artifacts.KEYWORDS) as tmp:
        table.to_parquet(tmp, index=False)
    summary = {
        "items": len(done),
        "failed": len(sample) - len(done),
        "unique_keywords": len({k for _, ks in done for k in ks}),
        "keyword_reused_share": reused_share([ks for _, ks in done]),
        "descriptor_reused_share": None,
        "llm": ctx.client.usage.as_dict(),
    }
    if (out / artifacts.ASSIGNMENTS).is_file():
        paths = artifacts.read_assignments(run_dir, artifacts.ASSIGNMENTS).set_index("item_id")["descriptor_ids"]
        summary["descriptor_reused_share"] = reused_share([list(paths[item]) for item in table["item_id"]])
    write_json(out / artifacts.KEYWORDS_SUMMARY, summary)
    return summary
