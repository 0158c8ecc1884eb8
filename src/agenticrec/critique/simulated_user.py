"""An LLM that plays the user in the critique experiment: it sees the wanted item and picks the level-1
descriptors it would steer the recommender towards. Its answer is constrained to the listed names; when the
role chooses by scoring (`llm.roles.simulated_user.choice`), it picks the single best-scored name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import GenericAlias
from typing import Any

from pydantic import Field, create_model

from agenticrec.llm import LLMClient, chat, load_prompt, one_of, quote_data, register_role
from agenticrec.semantic_ids.codes import SemanticIDs
from agenticrec.tagger import artifacts
from agenticrec.tagger.vocabulary import Vocabulary

ROLE = register_role(
    "simulated_user", "Critique experiment: plays the user and picks the level-1 descriptors to steer towards."
)


@dataclass(frozen=True)
class Option:
    token: str  # the level-1 token in the semantic IDs
    name: str
    card: str  # name plus description, as the prompt shows it


def level1_options(ids: SemanticIDs, tagger_run: Path | None = None) -> list[Option]:
    """Distinct level-1 tokens of ``ids`` with their names; descriptor cards come from the tagger's vocabulary."""
    cards: dict[str, str] = {}
    if ids.method == "descriptors" and tagger_run is not None:
        path = artifacts.tagger_dir(tagger_run) / artifacts.VOCABULARY
        if path.is_file():
            cards = {d.id: d.card() for d in Vocabulary.load(path).children(None)}
    return [Option(token, name, cards.get(token, name)) for token, name in ids.level1().items()]


def pick_level1(
    client: LLMClient, texts: list[str], options: list[Option], max_chars: int = 400
) -> list[list[str] | None]:
    """Per item text, the level-1 tokens the simulated user picks (None where the call failed)."""
    names = [o.name for o in options]
    by_name = {o.name: o.token for o in options}
    system = load_prompt(__file__, "prompts/pick_level1.md").render(
        categories="\n".join(f"- {o.card}" for o in options)
    )
    requests = [chat(system, quote_data(text[:max_chars])) for text in texts]
    if client.config.role(ROLE).choice != "generate":
        free = chat(system, quote_data("N/A"))
        picks = client.choose(ROLE, requests, [names] * len(texts), content_free=[free] * len(texts))
        return [[by_name[names[p.index]]] if p.index is not None else None for p in picks]
    # list[one_of(names)], spelled so that the type checker does not read a run-time type as a static one
    category_list: Any = GenericAlias(list, one_of(names))
    answer = create_model("Picks", categories=(category_list, Field(min_length=1, max_length=len(names))))
    results = client.batch(ROLE, requests, answer)
    # value is None exactly when the call failed (not r.ok)
    return [sorted({by_name[n] for n in r.value.categories}) if r.value is not None else None for r in results]
