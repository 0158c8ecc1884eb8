from agenticrec.data.category_names import keyphrase_names


def test_a_category_is_named_by_the_words_that_set_its_items_apart() -> None:
    texts = [
        "Blue ballpoint pens, pack of 12",
        "Gel pens in assorted colours, pack of 6",
        "Black ink cartridge for printers",
        "Colour ink cartridge, printer pack",
    ]
    names = keyphrase_names(texts, ["7", "7", "9", "9"], top=2)
    assert set(names) == {"7", "9"}
    assert "pens" in names["7"].split(", ") and "pack" not in names["7"]  # "pack" is in both categories
    assert set(names["9"].split(", ")) <= {"ink", "cartridge", "printers", "printer", "colour", "black"}
    assert not ({"printer", "printers"} <= set(names["9"].split(", ")))  # one inflection only


def test_names_that_would_coincide_keep_their_ids() -> None:
    names = keyphrase_names(["red pens", "red pens", "blue paper"], ["1", "2", "3"], top=2)
    assert names["1"] != names["2"] and names["1"].endswith("(1)") and names["2"].endswith("(2)")
    assert names["3"] == "blue, paper"
