"""An LLM-judge audit of an assignment: does the assigned descriptor fit the item, and does a random sibling?

For a seeded sample of items, the judge (role `descriptor_judge`) answers yes or no for the item's deepest
assigned descriptor and, separately, for a random sibling of it (another child of the same parent). With the
assigned pairs as positives and the sibling pairs as negatives, precision and recall of "fits" say whether the
descriptors are specific enough to be told apart, as far as the judge can tell.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agenticrec.data import Dataset
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, PromptTemplate, chat, load_prompt, quote_data
from agenticrec.tagger import artifacts
from agenticrec.tagger.agents import DESCRIPTOR_JUDGE as JUDGE
from agenticrec.tagger.config import TaggerConfig
from agenticrec.tagger.context import open_context
from agenticrec.tagger.vocabulary import Descriptor, Vocabulary

ANSWERS = ["yes", "no"]


def fit_request(prompt: PromptTemplate, descriptor: Descriptor, text: str, limit: int) -> list[dict[str, str]]:
    return chat(prompt.render(category=descriptor.card()), quote_data(" ".join(text.split())[:limit]))


def run_audit(dataset: Dataset, config: TaggerConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """The `tag audit` stage: writes and returns precision and recall of the judge's "fits"."""
    out = artifacts.tagger_dir(run_dir)
    vocabulary = Vocabulary.load(out / artifacts.VOCABULARY)
    table = artifacts.read_assignments(run_dir, artifacts.ASSIGNMENTS)
    started = time.perf_counter()
    ctx = open_context(dataset, config, client, run_dir, seed)
    rng = ctx.rng("audit")
    position = {item_id: i for i, item_id in enumerate(ctx.item_ids)}
    pairs: list[tuple[int, Descriptor, bool]] = []  # item position, descriptor, assigned?
    order = rng.permutation(len(table))
    for row in order:
        if len(pairs) >= 2 * config.audit_items:
            break
        path = table["descriptor_ids"].iloc[row]
        if not len(path):
            continue
        assigned = vocabulary.get(path[-1])
        siblings = [d for d in vocabulary.children(assigned.parent) if d.id != assigned.id]
        if not siblings:
            continue
        item = position[table["item_id"].iloc[row]]
        pairs += [(item, assigned, True), (item, siblings[int(rng.integers(len(siblings)))], False)]
    limit = config.max_text_chars
    prompt = load_prompt(__file__, "prompts/judge_fit.md")
    requests = [fit_request(prompt, d, ctx.texts[i], limit) for i, d, _ in pairs]
    free = [fit_request(prompt, d, "N/A", limit) for _, d, _ in pairs]
    picks = client.choose(JUDGE, requests, [ANSWERS] * len(pairs), content_free=free)
    judged = [(pick.index == 0, truth) for pick, (_, _, truth) in zip(picks, pairs) if pick.index is not None]
    fits_true = sum(fit and truth for fit, truth in judged)
    fits = sum(fit for fit, _ in judged)
    positives = sum(truth for _, truth in judged)
    summary = {
        "pairs": len(pairs),
        "judged": len(judged),
        "judge_precision": fits_true / fits if fits else None,
        "judge_recall": fits_true / positives if positives else None,
        "fits_share": fits / len(judged) if judged else None,
        "choice_mode": client.config.role(JUDGE).choice,
        "wall_seconds": time.perf_counter() - started,
        "llm": client.usage.as_dict(),
    }
    write_json(out / artifacts.AUDIT_SUMMARY, summary)
    return summary
