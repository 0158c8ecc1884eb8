"""An LLM that plays the user in the critique experiment: it sees the wanted item and picks the level-1
descriptors it would steer the recommender towards. Its answer is constrained to the listed names; when the
role chooses by scoring (`llm.roles.simulated_user.choice`), it picks the best-scored name and a second one scored
nearly as well, and abstains when, calibrated, no name is likelier for the item than for no item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import GenericAlias
from typing import Any

import numpy as np
from pydantic import Field, create_model

from agenticrec.llm import ChoiceResult, LLMClient, Message, chat, load_prompt, one_of, quote_data, register_role
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


def typical_items(ids: SemanticIDs, token: str, counts: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` items under level-1 ``token`` with the most interactions by ``counts`` (per item index, from
    training interactions; ties by index)."""
    items = np.flatnonzero(ids.items_under([(token,)]))
    return items[np.argsort(-counts[items], kind="stable")[:n]]


def with_examples(
    options: list[Option], ids: SemanticIDs, counts: np.ndarray, title: Callable[[int], str], n: int
) -> list[Option]:
    """Each option's card followed by its ``n`` typical items (`typical_items`), shown by ``title``. A name such as
    "Money" or "Nails Nail" tells a small model little; the items it holds tell it what the descriptor covers."""
    if n <= 0:
        return options
    out = []
    for option in options:
        shown = "; ".join(title(int(i)) for i in typical_items(ids, option.token, counts, n))
        out.append(replace(option, card=f"{option.card} (typical items: {shown})"))
    return out


MAX_PICKS = 2
MARGIN = 0.5  # a second pick scores within this much (mean log-prob per token) of the first


def scored_picks(scores: list[float], tokens: list[str], calibrated: bool) -> list[str]:
    """The best-scored token, and the next while within ``MARGIN`` of it (at most ``MAX_PICKS``); none (the user
    abstains) when calibrated and even the best is no likelier than after a content-free request."""
    order = sorted(range(len(scores)), key=lambda k: -scores[k])
    best = scores[order[0]]
    if calibrated and best <= 0.0:
        return []
    return [tokens[k] for k in order[:MAX_PICKS] if best - scores[k] <= MARGIN]


def pick_requests(options: list[Option], texts: list[str], max_chars: int = 400) -> list[list[Message]]:
    """The simulated user's request for each wanted item's text, the options listed by their cards."""
    system = load_prompt(__file__, "prompts/pick_level1.md").render(
        categories="\n".join(f"- {o.card}" for o in options)
    )
    return [chat(system, quote_data(text[:max_chars])) for text in texts]


def level1_choices(
    client: LLMClient, texts: list[str], options: list[Option], max_chars: int = 400
) -> list[ChoiceResult]:
    """Per item text, the simulated user's scored choice among ``options`` (scores in their order); the role
    must choose by scoring (`llm.roles.simulated_user.choice` other than generate)."""
    [free] = pick_requests(options, ["N/A"])
    names = [[o.name for o in options]] * len(texts)
    return client.choose(ROLE, pick_requests(options, texts, max_chars), names, content_free=[free] * len(texts))


def choice_picks(choices: list[ChoiceResult], options: list[Option]) -> list[list[str] | None]:
    """The level-1 tokens picked by each scored choice among ``options`` (see `scored_picks`); None where the call
    failed."""
    tokens = [o.token for o in options]
    return [scored_picks(c.scores, tokens, c.mode == "calibrated") if c.scores else None for c in choices]


def pick_level1(
    client: LLMClient, texts: list[str], options: list[Option], max_chars: int = 400
) -> list[list[str] | None]:
    """Per item text, the level-1 tokens the simulated user picks: an empty list where it abstains, None where
    the call failed."""
    names = [o.name for o in options]
    by_name = {o.name: o.token for o in options}
    if client.config.role(ROLE).choice != "generate":
        return choice_picks(level1_choices(client, texts, options, max_chars), options)
    requests = pick_requests(options, texts, max_chars)
    # list[one_of(names)], spelled so that the type checker does not read a run-time type as a static one
    category_list: Any = GenericAlias(list, one_of(names))
    answer = create_model("Picks", categories=(category_list, Field(min_length=1, max_length=len(names))))
    results = client.batch(ROLE, requests, answer)
    # value is None exactly when the call failed (not r.ok)
    return [sorted({by_name[n] for n in r.value.categories}) if r.value is not None else None for r in results]
