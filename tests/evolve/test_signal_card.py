"""The LaMAR signal-choice card: built from signal tables, written and read back, and a trial's overrides put the
chosen signal into the item text."""

from __future__ import annotations

import pandas as pd
import pytest
from evolve_testkit import tiny_shop
from typer.testing import CliRunner

from agenticrec.cli import app
from agenticrec.errors import ConfigError
from agenticrec.evolve.card import load_card
from agenticrec.pipeline import load_config


def test_a_signal_card_chooses_the_base_fields_or_one_signal(tmp_path):
    data = tiny_shop(tmp_path)
    table = tmp_path / "signal.parquet"
    pd.DataFrame({"item_id": [f"i{i}" for i in range(12)], "use_case": [f"brewing {i}" for i in range(12)]}).to_parquet(
        table
    )
    out = tmp_path / "cards" / "signal.yaml"
    result = CliRunner().invoke(app, ["evolve", "signal-card", str(table), "--fields", "title", "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = load_card(out)
    fields = card.space.params["fields"]
    assert fields.choices == ["[title]", "[title,use_case]"] and fields.default == "[title]"
    assert {"experts", "id_embedding", "dropout"} <= set(card.space.params)  # the text-based model's other decisions
    point = card.space.default() | {"fields": "[title,use_case]"}
    dataset = load_config(None, [*data, *card.overrides(point)]).data.load()
    assert dataset.text_fields == ["title", "use_case"] and "brewing 3" in dataset.item_text(dataset.index_of["i3"])
    without = load_config(None, [*data, *card.overrides(card.space.default())]).data.load()
    assert "brewing" not in without.item_text(without.index_of["i3"])


def test_a_table_without_a_signal_column_is_refused(tmp_path):
    table = tmp_path / "ids.parquet"
    pd.DataFrame({"item_id": ["i1"]}).to_parquet(table)
    with pytest.raises(ConfigError, match="at least one signal column"):
        CliRunner().invoke(app, ["evolve", "signal-card", str(table), "--out", str(tmp_path / "c.yaml")],
                           catch_exceptions=False)  # fmt: skip
