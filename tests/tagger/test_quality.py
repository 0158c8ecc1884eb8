"""Vocabulary quality without people: path spread, copied names, agreement with catalogue categories."""

import pandas as pd
import pytest

from agenticrec.tagger.quality import category_agreement, copied_names, vocabulary_quality
from agenticrec.tagger.vocabulary import Descriptor, Vocabulary


def vocabulary() -> Vocabulary:
    v = Vocabulary(dataset="toy", n_items=4)
    v.add_children(None, [Descriptor(id="?", level=1, name=n, description=n) for n in ("Skin", "Nails")])
    return v


def test_spread_entropy_and_copied_names():
    table = pd.DataFrame({"descriptor_ids": [["1"], ["1"], ["1"], ["2"]]})
    texts = ["title: Skin; brand: A", "title: Cream", "title: Serum", "title: Polish"]
    figures = vocabulary_quality(vocabulary(), table, texts, None)
    assert figures["largest_path_share"] == 0.75
    assert 0 < figures["path_entropy_normalised"] < 1
    assert figures["names_copied_from_titles"] == 1  # "Skin" is an item's title
    even = vocabulary_quality(vocabulary(), pd.DataFrame({"descriptor_ids": [["1"], ["2"]]}), texts[:2], None)
    assert even["path_entropy_normalised"] == pytest.approx(1.0)


def test_level1_and_leaves_are_compared_with_category_levels():
    table = pd.DataFrame({"descriptor_ids": [["1", "1.1"], ["1", "1.2"], ["2", "2.1"], ["2", "2.1"]]})
    categories = pd.Series(
        [
            "Beauty > Skin Care > Face | Beauty > Other",
            "Beauty > Skin Care > Body",
            "Beauty > Makeup > Nails",
            "Beauty > Makeup > Nails",
        ]
    )
    figures = category_agreement(table, categories)
    assert figures["level1_nmi_category2"] == pytest.approx(1.0)
    assert figures["leaf_nmi_category3"] == pytest.approx(1.0)
    assert figures["level1_ari_category3"] < 1.0


def test_copied_names_ignore_a_trailing_year():
    assert copied_names(["Titanic", "Romance"], ["title: Titanic (1997); genres: Drama"]) == 1
