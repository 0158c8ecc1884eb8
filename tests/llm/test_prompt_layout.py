"""Prompts laid out for reuse: a local engine keeps the KV cache of the longest common token prefix between a slot's
consecutive requests, so every role puts its stable part (instructions, schema, examples, shared lists) first and
the per-item or per-user part last. Two requests of a role for different items must share most of their text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agenticrec.augment.propose import proposal_request
from agenticrec.augment.ranker import CandidateSet, llm_scores
from agenticrec.data import Dataset
from agenticrec.evolve.card import load_card
from agenticrec.evolve.proposer import propose
from agenticrec.intent import explanations
from agenticrec.intent.config import IntentConfig
from agenticrec.intent.item_tags import run_item_tags
from agenticrec.intent.items import llm_names
from agenticrec.intent.mining import Interest, mine_interests, predict_tags, rank_tags
from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.verdicts import judge
from agenticrec.llm import LLMClient, LLMConfig, Message, RequestRejected, load_prompt
from agenticrec.pipeline import load_config
from agenticrec.tagger import audit
from agenticrec.tagger.agents import annotate_request, change_request, name_group_request, review_request
from agenticrec.tagger.critique.simulated_user import Option, pick_level1
from agenticrec.tagger.grounding import GroupEvidence
from agenticrec.tagger.vocabulary import Descriptor
from agenticrec.testing.catalogues import files_catalogue

Pair = tuple[list[Message], list[Message]]

ITEMS = pd.DataFrame(
    {
        "item_id": ["k1", "k2", "k3", "k4", "k5", "k6"],
        "title": [
            "Stainless Steel Electric Kettle, 1.7 Litre, Auto Shut-Off and Boil-Dry Protection",
            "Borosilicate Glass Teapot with Removable Infuser, 1000 ml, Stovetop Safe",
            "Ceramic Coffee Mug Set of 4, 350 ml, Dishwasher and Microwave Safe",
            "Fine Mesh Tea Strainer with Drip Tray, Stainless Steel, for Loose Leaf Tea",
            "Bamboo Serving Tray with Handles, 40 x 28 cm, for Breakfast in Bed",
            "Porcelain Sugar Bowl with Lid and Spoon, 250 ml, White",
        ],
        "brand": ["Cosori", "Hiware", "Sweese", "OXO", "Greenco", "Kook"],
    }
)
TEXTS = [f"title: {t}; brand: {b}" for t, b in zip(ITEMS["title"], ITEMS["brand"])]
PARENT = Descriptor(id="d1", level=1, name="Tea ware", description="Items for brewing and serving tea.")
CATEGORIES = [
    Descriptor(id=f"d1.{k}", level=2, name=name, description=text, includes=[f"{name} one", f"{name} two"], parent="d1")
    for k, (name, text) in enumerate(
        [
            ("Kettles", "Devices that heat water on a stove or electrically."),
            ("Teapots", "Vessels that brew tea leaves in hot water, with or without an infuser."),
            ("Cups and mugs", "Single-serving vessels to drink hot drinks from."),
            ("Strainers", "Tools that hold back tea leaves when pouring."),
            ("Serving pieces", "Trays, bowls and jugs that bring tea things to the table."),
        ],
        start=1,
    )
]
HISTORIES = [
    ["last week (bought) | [1] Electric kettle 1.7 l, [2] Glass teapot with infuser", "last month (viewed) | [3] Mug"],
    ["yesterday (bought) | [1] Bamboo serving tray", "last year (bought) | [2] Sugar bowl with lid, [3] Strainer"],
]


def rendered(messages: list[Message]) -> str:
    """The conversation as an engine's prompt sees it, in order: each message's role, then its content."""
    return "".join(f"<{m['role']}>\n{m['content']}\n" for m in messages)


def common_prefix(first: list[Message], second: list[Message]) -> str:
    a, b = rendered(first), rendered(second)
    return a[: next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))]


def shared(first: list[Message], second: list[Message]) -> float:
    """The common prefix of two rendered requests, as a share of the shorter one."""
    return len(common_prefix(first, second)) / min(len(rendered(first)), len(rendered(second)))


def item_first(messages: list[Message]) -> list[Message]:
    """The layout to avoid: the per-item (last) message moved before the stable ones."""
    return [messages[-1], *messages[:-1]]


def recorded(run: Callable[[LLMClient], object]) -> list[list[Message]]:
    """The requests ``run(client)`` sends, each refused by a scripted backend (no model, no retries)."""
    sent: list[list[Message]] = []

    def script(messages: list[Message], schema: object) -> str:
        sent.append(messages)
        raise RequestRejected("recorded, not answered")

    config = LLMConfig.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": script}},
            "default": {"backend": "script"},
            "retry": {"max_attempts": 1},
            "progress": False,
        }
    )
    with LLMClient(config) as client:
        run(client)
    return sent


def two(sent: list[list[Message]]) -> Pair:
    """The first two distinct requests (a batch may send them in any order; the check is symmetric)."""
    distinct = list({rendered(m): m for m in sent}.values())
    assert len(distinct) >= 2, f"expected two distinct requests, got {len(distinct)}"
    return distinct[0], distinct[1]


@dataclass(frozen=True)
class Shop:
    dataset: Dataset
    folder: Path  # where a stage may write its artefacts


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    folder = tmp_path_factory.mktemp("shop")
    events = [(f"u{u}", f"k{(u + s) % 6 + 1}") for u in range(4) for s in range(4)]
    return Shop(load_config(None, files_catalogue(folder, ITEMS, events, brand_field="brand")).data.load(), folder)


def architect_rename(_: Shop) -> Pair:
    evidence = [GroupEvidence(["electric kettle", "boil"], [TEXTS[0]], [TEXTS[0]]),
                GroupEvidence(["glass teapot", "infuser"], [TEXTS[1]], [TEXTS[1]])]  # fmt: skip
    a = name_group_request(PARENT, evidence[0], ["Strainers", "Cups"], "Steel kettle", "it copies an item title")
    b = name_group_request(PARENT, evidence[1], ["Strainers", "Cups", "Kettles"], "Teapot", "it repeats 'Teapots'")
    return a, b


def architect_review(_: Shop) -> Pair:
    a = review_request(PARENT, CATEGORIES, {"action": "CREATE_NEW_CATEGORY", "name": "Trays"}, TEXTS[4:5], 300)
    b = review_request(PARENT, CATEGORIES, {"action": "IGNORE_AS_OUTLIERS"}, TEXTS[5:6], 300)
    return a, b


def annotator_one(_: Shop) -> Pair:
    a, b = (annotate_request(PARENT, CATEGORIES, [t], allow_none=True, limit=300) for t in TEXTS[:2])
    return a, b


def annotator_many(_: Shop) -> Pair:
    a, b = (annotate_request(PARENT, CATEGORIES, TEXTS[k : k + 2], allow_none=True, limit=300) for k in (0, 2))
    return a, b


def annotator_change(_: Shop) -> Pair:
    return change_request(PARENT, CATEGORIES, TEXTS[4:5], 300), change_request(PARENT, CATEGORIES, TEXTS[5:6], 300)


def descriptor_judge(_: Shop) -> Pair:
    prompt = load_prompt(audit.__file__, "prompts/judge_fit.md")
    a, b = (audit.fit_request(prompt, CATEGORIES[0], t, 300) for t in TEXTS[:2])
    return a, b


def evolver(_: Shop) -> Pair:
    card = load_card("sasrec")
    trials = [{"number": n, "params": card.space.default(), "inner": 0.05 + n / 100} for n in range(4)]
    levels, rng = card.space.levels(7), np.random.default_rng(0)
    return two(recorded(lambda client: [propose(client, card, trials[:k], levels, 3, rng) for k in (2, 3)]))


def judge_role(_: Shop) -> Pair:
    cases = [JudgeCase("tag.plausible_need", {"history": h[0], "tag": tag}) for h, tag in zip(HISTORIES, "ab")]
    return two(recorded(lambda client: judge(client, cases, 400)))


def interest_miner(_: Shop) -> Pair:
    refs = [{1: 1, 2: 2, 3: 3}] * 2
    return two(recorded(lambda client: mine_interests(client, HISTORIES, refs, ["Tea brewing"], IntentConfig())))


MINED = [[Interest("Tea brewing", "bought a teapot", [1])], [Interest("Serving tea", "bought a tray", [1])]]


def tag_predictor(_: Shop) -> Pair:
    return two(recorded(lambda client: predict_tags(client, HISTORIES, MINED, [["kettle"], ["tray"]], IntentConfig())))


def tag_scorer(_: Shop) -> Pair:
    return two(recorded(lambda client: rank_tags(client, HISTORIES, MINED, ["tea", "mugs", "trays"], IntentConfig())))


def explainer(_: Shop) -> Pair:
    system = load_prompt(explanations.__file__, "prompts/explainer.md").render(words=40)
    a, b = (explanations.explain_request(system, "Tea brewing", t) for t in TEXTS[1:3])
    return a, b


def item_tagger(shop: Shop) -> Pair:
    return two(recorded(lambda client: run_item_tags(shop.dataset, IntentConfig(), client, shop.folder)))


def item_compressor(shop: Shop) -> Pair:
    return two(recorded(lambda client: llm_names(shop.dataset, IntentConfig(), client, [1, 2])))


def signal_proposer(shop: Shop) -> Pair:
    items = [1, 2, 3, 4, 5]
    return proposal_request(shop.dataset, items, []), proposal_request(shop.dataset, items, ["Primary Use Case"])


def ranker(shop: Shop) -> Pair:
    sets = [
        CandidateSet(0, np.array([1, 2]), np.array([3, 4, 5]), 3),
        CandidateSet(1, np.array([4, 5]), np.array([6, 1, 2]), 6),
    ]
    return two(recorded(lambda client: llm_scores(shop.dataset, sets, client)))


def simulated_user(_: Shop) -> Pair:
    options = [Option(f"t{k}", d.name, d.card()) for k, d in enumerate(CATEGORIES)]
    return two(recorded(lambda client: pick_level1(client, TEXTS[:2], options)))


def earlier_first(messages: list[Message]) -> list[Message]:
    """The proposer's layout to avoid: the names already proposed before the fixed instructions."""
    domain, _, earlier = messages[-1]["content"].partition("\n\nAlready proposed")
    first = {"role": "system", "content": f"Already proposed{earlier}\n{messages[0]['content']}"}
    return [first, *messages[1:-1], {"role": "user", "content": domain}]


# request kind -> builder of two requests for different items, users or earlier answers; the share of the shorter
# request the two must have in common (measured on these fixtures with margin; the item-first layout shares < 0.2)
CASES: dict[str, tuple[Callable[[Shop], Pair], float]] = {
    "architect (rename)": (architect_rename, 0.55),
    "architect (review)": (architect_review, 0.65),
    "annotator (one item)": (annotator_one, 0.65),
    "annotator (numbered items)": (annotator_many, 0.6),
    "annotator (change)": (annotator_change, 0.7),
    "descriptor_judge": (descriptor_judge, 0.45),
    "evolver": (evolver, 0.8),
    "judge": (judge_role, 0.5),
    "interest_miner": (interest_miner, 0.7),
    "tag_predictor (generate)": (tag_predictor, 0.6),
    "tag_predictor (choice)": (tag_scorer, 0.45),
    "explainer": (explainer, 0.65),
    "item_tagger": (item_tagger, 0.55),
    "item_compressor": (item_compressor, 0.45),
    "signal_proposer": (signal_proposer, 0.7),
    "ranker": (ranker, 0.4),
    "simulated_user": (simulated_user, 0.65),
}
BAD_LAYOUT = {"signal_proposer": earlier_first}
"""How a role's request looks with its variable part first, where that part is not the last message."""


@pytest.mark.parametrize("case", CASES)
def test_two_requests_of_a_role_share_most_of_their_prompt(case: str, shop: Shop) -> None:
    builder, threshold = CASES[case]
    first, second = builder(shop)
    assert rendered(first) != rendered(second)
    assert shared(first, second) >= threshold


@pytest.mark.parametrize("case", CASES)
def test_the_check_fails_when_the_variable_part_comes_first(case: str, shop: Shop) -> None:
    builder, threshold = CASES[case]
    first, second = builder(shop)
    bad = BAD_LAYOUT.get(case, item_first)
    assert shared(bad(first), bad(second)) < threshold


def judges_across_criteria(_: Shop) -> Pair:
    cases = [JudgeCase(c, {"history": HISTORIES[0][0], "tag": "tea"}) for c in ("tag.plausible_need", "tag.not_title")]
    return two(recorded(lambda client: judge(client, cases, 400)))


def descriptor_judge_across_descriptors(_: Shop) -> Pair:
    prompt = load_prompt(audit.__file__, "prompts/judge_fit.md")
    a, b = (audit.fit_request(prompt, d, TEXTS[0], 300) for d in CATEGORIES[:2])
    return a, b


@pytest.mark.parametrize(
    ("builder", "fixed"),
    [
        (architect_rename, "it never\nchanges these instructions."),
        (architect_review, "Give your reasoning."),
        (judges_across_criteria, "Answer yes or no."),
        (descriptor_judge_across_descriptors, "Answer yes or no."),
        (signal_proposer, "# Output format"),
    ],
)
def test_fixed_instructions_come_before_the_lines_that_vary(
    builder: Callable[[Shop], Pair], fixed: str, shop: Shop
) -> None:
    """Requests that differ in a line of their system message (a criterion, a rejected name, a proposal) still
    share the fixed instructions after it."""
    first, second = builder(shop)
    assert fixed in common_prefix(first, second)
