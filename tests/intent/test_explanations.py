"""Explanations (RecGPT §2.4): the attribute check, the word limit, the item's own phrases, and the offline table
built (written freely, or grounded in picked phrases), judged and looked up on MovieLens-100k with a scripted LLM."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from agenticrec.intent import artifacts
from agenticrec.intent.explanations import (
    ExplanationLookup,
    grounded_note,
    item_phrases,
    run_explain,
    run_explain_judge,
)
from agenticrec.intent.report import write_report
from agenticrec.intent.stage import run_compress, run_evaluate, run_mine, run_tags
from agenticrec.judge.claims import absent_attributes
from agenticrec.llm import LLMClient
from agenticrec.llm.text import short_answer
from agenticrec.pipeline import load_config

LONG = " ".join(["word"] * 60)


def test_absent_attributes_are_claims_the_item_text_lacks():
    item = "title: OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce; brand: OPI"
    claimed = "This OPI lacquer in gold, 0.5 ounce, has a vegan formula from Essie. It suits your nail art."
    assert absent_attributes(claimed, item, context="nail art") == ["gold", "vegan", "Essie"]
    # the interest's own words and a sentence's first word are not attribute claims
    assert absent_attributes("Nail art fans like OPI lacquer. Nail Art needs it.", item, context="Nail Art") == []


def test_explanations_are_cut_to_the_word_limit():
    assert short_answer('Explanation: "Fits your taste."', 40) == ("Fits your taste.", False)
    text, cut = short_answer("First sentence is here. " + LONG, 6)  # its end falls in the second half
    assert cut and text == "First sentence is here."
    text, cut = short_answer(LONG, 10)
    assert cut and len(text.split()) == 10 and text.endswith("…")


def script(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    system, user = messages[0]["content"], messages[-1]["content"]
    if "user-interest analyst" in system:
        refs = [int(n) for n in re.findall(r"\[(\d+)\]", user)]
        genres = re.findall(r"· ([A-Z][a-z]+)", user)
        interests = [
            {"name": f"{genre} films", "rationale": "seen often", "evidence": [refs[k]]}
            for k, genre in enumerate(dict.fromkeys(genres))
        ][:3]
        return json.dumps({"interests": interests})
    if "short note shown beside a recommended item" in system:
        if "does not state" in user:  # sent back: 1993 films lose both claims, other comedies only "gold"
            return "A comedy for you." if "1993" in messages[1]["content"] else "A comedy for you, in a 35 mm print."
        if "Comedy" in user:  # planted claims the item text cannot back
            return "Explanation: A gold comedy for you, in a 35 mm print."
        return "This film matches what you have watched. " + LONG
    raise AssertionError(f"unexpected prompt: {system[:80]}")


def scorer(messages: list[dict[str, str]], options: list[str]) -> list[float]:
    """The judge fails explanations with a planted claim, passes the rest; the explainer picks the phrase that shares
    a word with the interest (the genre), and otherwise the last one offered."""
    user = messages[-1]["content"]
    if "best shows why the item fits" in messages[0]["content"]:
        interest = set(re.search(r"interest: (.*)", user).group(1).lower().split())  # type: ignore[union-attr]
        last = len(options) - 1
        shared = [bool(interest & set(o.lower().split())) for o in options]
        return [0.0 if hit else -0.5 if k == last else -1.0 for k, hit in enumerate(shared)]
    defect = "35 mm" in user
    return [-2.0 if (option == "yes") == defect else -0.5 for option in options]


def explain_config(tmp_path, mode: str):
    config = load_config(
        None,
        [f"run_dir={tmp_path}", "seed=0", "intent.users=12", "intent.explain_items=2", "llm.progress=false",
         f"intent.explain_mode={mode}"],
        data="movielens-100k",
    )  # fmt: skip
    config.llm = config.llm.model_validate(
        {
            "backends": {"script": {"kind": "scripted", "script": script, "scorer": scorer}},
            "default": {"backend": "script", "choice": "score"},
            "progress": False,
        }
    )
    return config


def test_item_phrases_are_the_fields_own_parts():
    text = "title: Kettle, Steel; brand: Acme; categories: Home > Kitchen > Electric Kettles; note: a - b / c | d"
    assert item_phrases(text) == ["Kettle", "Steel", "Acme", "Home", "Kitchen", "Electric Kettles", "a", "b", "c", "d"]
    assert item_phrases("title: kettle; again: Kettle; long: " + " ".join(["w"] * 9)) == ["kettle"]


@pytest.mark.parametrize("mode", ["grounded", "similarity"])
def test_grounded_explanations_name_only_the_items_own_phrases(tmp_path, mode):
    config = explain_config(tmp_path, mode)
    dataset = config.data.load()
    with LLMClient(config.llm, tmp_path) as client:
        run_compress(dataset, config.intent, client, tmp_path, 0)
        run_mine(dataset, config.intent, client, tmp_path, 0)
        built = run_explain(dataset, config.intent, client, tmp_path, 0)
        picks = client.usage.as_dict().get("explainer", {}).get("calls", 0)
    table = artifacts.read_table(tmp_path, artifacts.EXPLANATIONS)
    assert built["explain_mode"] == mode and built["explained"] == built["pairs"] == len(table) > 0
    assert built["absent_attribute_rate"] == 0.0 and built["withheld"] == 0
    for row in table.itertuples():
        text = dataset.item_text(dataset.item_index(row.item))
        assert any(row.explanation == grounded_note(row.interest, p) for p in item_phrases(text)), row.explanation
    genre = table.apply(lambda r: r.interest.split()[0] in r.explanation.split(": ", 1)[1], axis=1)
    if mode == "grounded":  # the scripted explainer picks the phrase naming the interest's genre where one does
        assert picks > 0 and genre.mean() > 0.5 and 0.0 <= built["pick_is_closest_share"] <= 1.0
    else:
        assert picks == 0 and built["pick_is_closest_share"] is None


def test_table_judge_and_lookup(tmp_path):
    config = explain_config(tmp_path, "free")
    dataset = config.data.load()
    with LLMClient(config.llm, tmp_path) as client:
        run_compress(dataset, config.intent, client, tmp_path, 0)
        run_mine(dataset, config.intent, client, tmp_path, 0)
        built = run_explain(dataset, config.intent, client, tmp_path, 0)
        judged = run_explain_judge(dataset, config.intent, config.judge, client, tmp_path, 0)
    table = artifacts.read_table(tmp_path, artifacts.EXPLANATIONS)
    interests = artifacts.read_table(tmp_path, artifacts.INTERESTS)
    assert built["pairs"] == 2 * interests["name"].str.lower().nunique() == len(table)
    text = table["item"].map(lambda i: dataset.item_text(dataset.item_index(i)))
    comedy, fixed = text.str.contains("Comedy"), text.str.contains("1993")
    assert table["words"].max() <= 40 and built["cut_to_word_limit"] == (~comedy).sum()
    assert (comedy & fixed).sum() > 0 and (comedy & ~fixed).sum() > 0 and comedy.sum() < len(table)
    # "gold" and "35" are not in the text; sent back once, 1993 films drop both and other comedies only one
    assert built["absent_attribute_rate_first_draft"] == pytest.approx(comedy.mean())
    assert built["revised"] == comedy.sum() and table["revised"].equals(comedy)
    assert built["absent_attribute_rate"] == pytest.approx((comedy & ~fixed).mean())
    assert built["withheld"] == (comedy & ~fixed).sum()
    assert judged["no_invented_attributes_pass"] == pytest.approx(1 - (comedy & ~fixed).mean())
    assert judged["absent_attribute_rate_judge"] == pytest.approx((comedy & ~fixed).mean())
    for key, pairs in table.groupby("interest_key"):  # an interest's items are outside its evidence
        evidence = {i for e in interests.loc[interests["name"].str.lower() == key, "evidence"] for i in e}
        assert not evidence & set(pairs["item"])

    with LLMClient(config.llm, tmp_path) as client:
        run_tags(dataset, config.intent, client, tmp_path, 0)
    run_evaluate(dataset, config.intent, tmp_path, 0)
    report = write_report(dataset, config.intent, tmp_path).read_text()
    assert table["explanation"].iloc[0] in report  # example users show their interests' explained items

    lookup = ExplanationLookup.load(tmp_path)
    served = table[table["absent_attributes"].map(len) == 0]
    withheld = set(table.loc[comedy & ~fixed, "item"])  # every explanation of these items is flagged
    assert all(lookup.explain(user, item) is None for user in interests["user"].unique() for item in withheld)
    user = interests["user"].iloc[0]
    keys = set(interests.loc[interests["user"] == user, "name"].str.lower())
    row = served[served["interest_key"].isin(keys)].iloc[0]
    found = lookup.explain(user, row["item"])
    options = served[(served["item"] == row["item"]) & served["interest_key"].isin(keys)]
    similarity = [np.dot(a, b) for a, b in zip(options["interest_vector"], options["item_vector"])]
    best = options.iloc[int(np.argmax(similarity))]
    assert found is not None and (found.interest, found.explanation) == (best["interest"], best["explanation"])
    assert lookup.explain("no-such-user", row["item"]) is None
    assert lookup.explain(user, "no-such-item") is None
