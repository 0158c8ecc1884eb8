"""Semantic IDs: resolver and collision figures, builders, tokeniser round trips, save/load."""

import numpy as np
import pandas as pd
import pytest

from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.semantic_ids.builders import (
    build_categories,
    build_descriptors,
    residual_kmeans_codes,
    save_semantic_ids,
)
from agenticrec.semantic_ids.codes import SemanticIDs, catalogue_key
from agenticrec.semantic_ids.config import SemanticIDConfig
from agenticrec.semantic_ids.tokenizer import EOS, PAD, SemanticIDTokenizer


def catalogue(categories: list[str]) -> Dataset:
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(len(categories))], "categories": categories})
    return Dataset("toy", items, ["u"], [np.array([1, 1, 1])], ["categories"])


def test_resolvers_make_every_id_unique_and_count_collisions():
    ids = SemanticIDs.from_paths("toy", [("a", "b"), ("a", "b"), ("a", "c"), ("a", "b"), ()])
    assert ids.resolvers.tolist() == [0, 1, 0, 2, 0]
    assert len({ids.tokens(i) for i in range(1, 6)}) == 5
    stats = ids.stats()
    assert stats["distinct_paths"] == 3
    assert stats["collision_rate"] == pytest.approx(3 / 5)
    assert stats["largest_bucket"] == 3
    assert stats["id_lengths"] == {1: 1, 3: 4}
    assert stats["tokens_per_level"] == [1, 2]


def test_items_under_prefixes():
    ids = SemanticIDs.from_paths("toy", [("a", "b"), ("a", "c"), ("d",), ()])
    assert ids.items_under([("a", "c"), ("d",)]).tolist() == [False, False, True, True, False]
    assert ids.items_under([("a",)]).tolist() == [False, True, True, False, False]


def test_tokenizer_round_trips_every_item_and_rejects_partial_ids():
    ids = SemanticIDs.from_paths("toy", [("a", "b"), ("a", "b"), ("a",), ("c", "b")])
    tok = SemanticIDTokenizer(ids)
    for index in range(1, 5):
        tokens = tok.item_tokens[index]
        assert tokens[-1] == EOS
        assert tok.decode(tokens) == index
        assert tok.decode((*tokens, PAD, PAD)) == index
        assert tok.decode(tokens[:-1]) == 0  # without EOS it is only a prefix
    assert tok.max_id_length == 4
    assert tok.path_tokens()[4] == [tok.token_of["c"], tok.token_of["b"]]
    assert tok.encode_history(np.array([1, 3, 4]), max_items=2) == [*tok.item_tokens[3], *tok.item_tokens[4]]


def test_save_and_load_keep_paths_names_and_method(tmp_path):
    ids = SemanticIDs.from_paths("descriptors", [("1", "1.2"), ("2",)], [("Skin", "Creams"), ("Hair",)])
    ids.save(tmp_path / "ids.parquet")
    back = SemanticIDs.load(tmp_path / "ids.parquet")
    assert back.method == "descriptors"
    assert back.paths == ids.paths and back.names == ids.names
    assert back.resolvers.tolist() == ids.resolvers.tolist()
    assert back.label(1) == "Skin > Creams #0"


def test_residual_kmeans_refines_each_level():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 10
    points = np.repeat(centres, 25, axis=0) + rng.normal(size=(100, 8))
    codes = residual_kmeans_codes(points, levels=2, codes=4, seed=0)
    assert codes.shape == (100, 2)
    # level 1 recovers the four well-separated groups exactly
    for group in range(4):
        assert len(set(codes[group * 25 : (group + 1) * 25, 0])) == 1
    assert len(set(codes[:, 0])) == 4
    # level 2 splits within groups, so paths are finer than level 1 alone
    assert len({tuple(c) for c in codes}) > 4


def test_residual_kmeans_caps_codes_at_the_number_of_items():
    codes = residual_kmeans_codes(np.eye(3), levels=3, codes=256, seed=0)
    assert codes.max() < 3


def test_category_paths_use_prefixes_as_tokens():
    data = catalogue(["Beauty > Makeup > Nails | Beauty > Other", "Beauty > Makeup", "", "Beauty > Skin"])
    ids = build_categories(data, SemanticIDConfig(method="categories"), None, 0)
    assert ids.paths[0] == ("Beauty > Makeup", "Beauty > Makeup > Nails")  # the shared root "Beauty" is dropped
    assert ids.names[0] == ("Makeup", "Nails")
    assert ids.paths[1] == ("Beauty > Makeup",)
    assert ids.paths[2] == ()
    assert ids.label(1) == "Makeup > Nails #0"


def test_category_ids_take_the_first_path_under_the_most_common_top_level():
    data = catalogue(["Odd > X | Sports > Golf > Balls", "Sports > Golf", "Sports > Camping", "Odd > Z", ""])
    ids = build_categories(data, SemanticIDConfig(method="categories"), None, 0)
    # "Sports", shared by every path under it, is dropped; an item with no path under it keeps its own
    assert [p[:1] for p in ids.paths] == [("Sports > Golf",), ("Sports > Golf",), ("Sports > Camping",), ("Odd",), ()]
    assert ids.names[0] == ("Golf", "Balls") and ids.names[3] == ("Odd", "Z")


def test_an_item_filed_only_under_the_shared_root_is_left_uncategorised():
    data = catalogue(["Toys", "Toys > Cars", "Toys > Dolls > Barbie"])
    ids = build_categories(data, SemanticIDConfig(method="categories"), None, 0)
    assert ids.paths == [(), ("Toys > Cars",), ("Toys > Dolls", "Toys > Dolls > Barbie")]


def test_category_ids_need_the_column():
    data = catalogue(["x"])
    with pytest.raises(AgenticRecError, match="no 'genre' column"):
        build_categories(data, SemanticIDConfig(method="categories", category_field="genre"), None, 0)


def test_descriptor_ids_come_from_the_ids_the_tagger_published(tmp_path):
    data = catalogue(["a", "b"])
    with pytest.raises(AgenticRecError, match="tag assign"):
        build_descriptors(data, SemanticIDConfig(), tmp_path, 0)
    published = SemanticIDs.from_paths(
        "descriptors", [["1", "1.1"], ["2"]], [["Skin", "Cream"], ["Hair"]], catalogue=catalogue_key(data.item_ids())
    )
    save_semantic_ids(published, tmp_path)
    ids = build_descriptors(data, SemanticIDConfig(), tmp_path, 0)
    assert ids.paths == [("1", "1.1"), ("2",)]
    assert ids.label(1) == "Skin > Cream #0"
    other = catalogue(["a", "b", "c"])
    with pytest.raises(AgenticRecError, match="another catalogue"):
        build_descriptors(other, SemanticIDConfig(), tmp_path, 0)
