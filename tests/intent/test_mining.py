"""Interest evidence is validated against the user's own history; tags that copy items are removed."""

from __future__ import annotations

from agenticrec.intent.config import IntentConfig
from agenticrec.intent.mining import MinedInterest, MinedInterests, clean_tags, tag_lines, validate_interests

REFS = {101: 1, 102: 2, 103: 3}  # item index -> reference number shown to the model


def mined(*interests: tuple[str, list[int]]) -> MinedInterests:
    return MinedInterests(interests=[MinedInterest(name=n, rationale="because", evidence=e) for n, e in interests])


def test_valid_evidence_maps_back_to_items() -> None:
    outcome = validate_interests(mined(("Nail art", [1, 3])), REFS, IntentConfig())
    assert [(i.name, i.evidence, i.repaired) for i in outcome.interests] == [("Nail art", [101, 103], False)]
    assert outcome.dropped == 0


def test_invalid_evidence_is_removed_and_counted_as_repaired() -> None:
    outcome = validate_interests(mined(("Nail art", [1, 9])), REFS, IntentConfig())
    assert outcome.interests[0].evidence == [101]
    assert outcome.interests[0].repaired


def test_interests_without_valid_evidence_or_duplicated_are_dropped() -> None:
    outcome = validate_interests(
        mined(("Nail art", [7]), ("Skin care", [2]), ("skin  CARE", [3]), ("Hair", [3])), REFS, IntentConfig()
    )
    assert [i.name for i in outcome.interests] == ["Skin care", "Hair"]
    assert outcome.dropped == 2


def test_at_most_max_interests_are_kept() -> None:
    config = IntentConfig(min_interests=1, max_interests=2)
    outcome = validate_interests(mined(("a1", [1]), ("b2", [2]), ("c3", [3])), REFS, config)
    assert len(outcome.interests) == 2 and outcome.dropped == 1


def test_clean_tags_removes_copies_of_history_items_sentences_and_duplicates() -> None:
    tags, removed = clean_tags(
        [
            "matte lipstick",
            "OPI Nail Lacquer Red",
            "Matte  Lipstick",
            "a very long tag that is really a sentence",
            "toner",
        ],
        ["OPI Nail Lacquer, Red"],
        k=30,
    )
    assert tags == ["matte lipstick", "toner"]
    assert removed == 3


def test_clean_tags_keeps_the_first_k() -> None:
    assert clean_tags(["a1", "b2", "c3"], [], k=2) == (["a1", "b2"], 0)


def test_tag_lines_strip_numbering_bullets_and_quotes() -> None:
    assert tag_lines('1. matte lipstick\n- "toner",\n* nail art\n2) hair dryer\n\n') == [
        "matte lipstick",
        "toner",
        "nail art",
        "hair dryer",
    ]
