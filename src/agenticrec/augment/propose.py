"""LaMAR step 1: the LLM proposes a new item attribute for the domain (few-shot, step by step), from the dataset's
name, its fields and a seeded sample of items; several proposals are asked one after another, each told the names
already proposed, and near-duplicates (by embedding) are dropped."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Self

import numpy as np
import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from agenticrec.augment import artifacts
from agenticrec.augment.config import SIGNAL_PROPOSER, AugmentConfig
from agenticrec.data import Dataset
from agenticrec.embed import embed_texts
from agenticrec.io import write_json
from agenticrec.llm import LLMClient, Message, load_prompt, quote_data


def repeats_itself(text: str, n: int = 3) -> bool:
    """Whether some run of ``n`` words occurs twice: the mark of a model writing in a loop."""
    words = text.lower().split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) < len(grams)


class SignalExample(BaseModel):
    item: int = Field(description="the quoted item's number")
    value: str = Field(max_length=200)  # the prompt asks for at most 20 words

    @field_validator("value")
    @classmethod
    def _not_a_loop(cls, value: str) -> str:
        if repeats_itself(value):
            raise ValueError(f"the value repeats itself; give a short value without repetition, not {value!r}")
        return value


MAX_NAME_WORDS = 5


@cache
def worked_examples() -> list[dict[str, Any]]:
    """The proposer's worked examples (other domains), from `prompts/signal_proposer_examples.yaml`."""
    return list(yaml.safe_load((Path(__file__).parent / "prompts" / "signal_proposer_examples.yaml").read_text()))


def domain_message(name: str, fields: list[str], texts: list[str]) -> str:
    lines = [f"Domain: {name}. Fields: {', '.join(fields)}.", "Items:"]
    lines += [f"[{n}] {text}" for n, text in enumerate(texts, start=1)]
    return quote_data("\n".join(lines), "domain")


def worked_turns() -> list[Message]:
    """Each worked example as a user turn (its domain and items) and the assistant's proposal for it."""
    turns: list[Message] = []
    for example in worked_examples():
        answer = {
            "reasoning": example["reasoning"],
            "name": example["name"],
            "definition": example["definition"],
            "examples": [{"item": n, "value": v} for n, v in enumerate(example["values"], start=1)],
        }
        turns += [
            {"role": "user", "content": domain_message(example["domain"], example["fields"], example["items"])},
            {"role": "assistant", "content": json.dumps(answer)},
        ]
    return turns


class SignalProposal(BaseModel):
    """One proposed attribute; a sentence for a name, or examples that do not tell items apart, are sent back to the
    LLM with the reason (a weak model's typical failures). Every text is short enough for the local engine's grammar
    to bound it: with 2,000 characters allowed, Qwen-1.5B wrote on until its context was full."""

    reasoning: str = Field(max_length=300)  # two sentences, as in the worked examples
    name: str = Field(min_length=2, max_length=60)
    definition: str = Field(min_length=5, max_length=300)
    examples: list[SignalExample] = Field(min_length=1, max_length=5)

    @field_validator("name")
    @classmethod
    def _attribute_name(cls, name: str) -> str:
        name = name.strip()
        if len(name.split()) > MAX_NAME_WORDS or re.search(r"[.,;:!?]", name):
            raise ValueError(
                f"the name must be an attribute name of at most {MAX_NAME_WORDS} words without punctuation "
                f"(like 'Primary Use Case'), not {name!r}"
            )
        return name

    @model_validator(mode="after")
    def _examples_tell_items_apart(self) -> Self:
        if len({e.value.strip().lower() for e in self.examples}) < len(self.examples):
            raise ValueError("each example value must describe its own item, but two of them are the same")
        return self

    @model_validator(mode="after")
    def _not_a_worked_example(self) -> Self:
        """Qwen-1.5B answered Amazon Scientific with the last worked example, "Cooking Task", values and all."""
        values = {e.value.strip().lower() for e in self.examples}
        for example in worked_examples():
            if self.name.lower() == example["name"].lower() or values & {v.lower() for v in example["values"]}:
                raise ValueError(
                    f"the proposal copies the worked example {example['name']!r} from another domain; propose an "
                    "attribute for this domain, with values stated from the quoted items"
                )
        return self


def sample_items(dataset: Dataset, count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(i) + 1 for i in rng.choice(dataset.n_items, size=min(count, dataset.n_items), replace=False))


def proposal_request(dataset: Dataset, items: list[int], earlier: list[str]) -> list[Message]:
    """The proposer's request: the instructions, the worked examples as earlier turns, then this domain's items; the
    names already proposed close the last message, so the requests of one run share everything before them."""
    system = load_prompt(__file__, "prompts/signal_proposer.md").text
    domain = domain_message(dataset.name, dataset.text_fields, [dataset.item_text(i) for i in items])
    avoid = f"\n\nAlready proposed (propose a different attribute): {', '.join(earlier)}." if earlier else ""
    return [{"role": "system", "content": system}, *worked_turns(), {"role": "user", "content": domain + avoid}]


def run_propose(dataset: Dataset, config: AugmentConfig, client: LLMClient, run_dir: Path, seed: int) -> dict[str, Any]:
    """Ask for ``config.proposals`` attributes; write proposals.json (each with its example items' ids, and whether
    it was kept)."""
    items = sample_items(dataset, config.sample_items, seed)
    proposals: list[dict[str, Any]] = []
    kept_vectors: list[np.ndarray] = []
    for _ in range(config.proposals):
        earlier = [p["name"] for p in proposals]
        result = client.call(SIGNAL_PROPOSER, proposal_request(dataset, items, earlier), SignalProposal)
        proposal = result.value
        assert isinstance(proposal, SignalProposal)
        vector = embed_texts([f"{proposal.name}: {proposal.definition}"], config.embedding_model, progress=False)[0]
        similarity = max((float(vector @ v) for v in kept_vectors), default=0.0)
        kept = similarity < config.duplicate_similarity
        if kept:
            kept_vectors.append(vector)
        examples = [
            {"item": dataset.item_ids()[items[e.item - 1] - 1], "value": e.value}
            for e in proposal.examples
            if 1 <= e.item <= len(items)
        ]
        proposals.append(
            proposal.model_dump(exclude={"examples"})
            | {"examples": examples, "kept": kept, "closest_kept_similarity": similarity}
        )
    write_json(artifacts.augment_dir(run_dir) / artifacts.PROPOSALS, proposals)
    return {
        "proposed": len(proposals),
        "kept": sum(p["kept"] for p in proposals),
        "names": [p["name"] for p in proposals if p["kept"]],
    }
