"""Extra item fields (e.g. a generated signal) joined onto a catalogue through the data config, and text fields."""

from pathlib import Path

import pandas as pd
import pytest

from agenticrec.errors import DataError
from agenticrec.pipeline import load_config

ITEMS = pd.DataFrame({"sku": ["S1", "S2", "S3"], "title": ["Kettle", "Teapot", "Mug"]})
EVENTS = pd.DataFrame({"customer": ["c1"] * 3 + ["c2"] * 3, "sku": ["S1", "S2", "S3", "S3", "S2", "S1"]})


def data_config(tmp_path: Path, *overrides: str):
    ITEMS.to_csv(tmp_path / "items.csv", index=False)
    EVENTS.to_csv(tmp_path / "events.csv", index=False)
    return load_config(
        None,
        [
            "data.name=files",
            f"data.options.items={tmp_path / 'items.csv'}",
            f"data.options.interactions={tmp_path / 'events.csv'}",
            "data.options.columns={item_id: sku, user_id: customer, timestamp: null}",
            *overrides,
        ],
    ).data


def test_a_signal_table_becomes_an_item_text_field(tmp_path):
    uses = pd.DataFrame({"item_id": ["S1", "S2", "S3"], "use": ["boiling water", None, "drinking tea"]})
    uses.to_parquet(tmp_path / "s.parquet")
    dataset = data_config(
        tmp_path, f"data.item_fields=[{tmp_path / 's.parquet'}]", "data.text_fields=[title, use]"
    ).load()
    texts = dict(zip(dataset.item_ids(), dataset.item_texts()))
    assert texts == {
        "S1": "title: Kettle; use: boiling water",
        "S2": "title: Teapot",
        "S3": "title: Mug; use: drinking tea",
    }
    assert data_config(tmp_path, "data.text_fields=[title]").load().item_text(1) == "title: Kettle"


def test_a_table_for_another_catalogue_is_refused(tmp_path):
    pd.DataFrame({"item_id": ["S1", "X9"], "use": ["a", "b"]}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match=r"s\.csv, record 2: item id 'X9' is not in"):
        data_config(tmp_path, f"data.item_fields=[{tmp_path / 's.csv'}]").load()


def test_a_table_that_leaves_items_out_is_refused_with_their_ids(tmp_path):
    pd.DataFrame({"item_id": ["S2"], "use": ["a"]}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match=r"s\.csv: 2 catalogue items of files have no row, e\.g\. S1, S3"):
        data_config(tmp_path, f"data.item_fields=[{tmp_path / 's.csv'}]").load()


def test_clashing_and_unknown_fields_are_named(tmp_path):
    pd.DataFrame({"item_id": ["S1", "S2", "S3"], "title": ["other"] * 3}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match="title already exist"):
        data_config(tmp_path, f"data.item_fields=[{tmp_path / 's.csv'}]").load()
    with pytest.raises(DataError, match=r"text field\(s\) colour are not item columns"):
        data_config(tmp_path, "data.text_fields=[title, colour]").load()
