"""LaMAR step 2: the kept proposal's value for every item (role ``signal_writer``, its three examples as shots), at
most ``words`` words, resumable through the ledger. Values that contradict the item's metadata are dropped and
counted: by the lexical claim check, or by the judge (``augment.consistency``)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from agenticrec.augment import artifacts
from agenticrec.augment.config import SIGNAL_WRITER, AugmentConfig
from agenticrec.augment.propose import repeats_itself
from agenticrec.data import Dataset
from agenticrec.errors import AgenticRecError
from agenticrec.io import parquet_parts, write_json
from agenticrec.judge.cases import JudgeCase
from agenticrec.judge.claims import absent_attributes
from agenticrec.judge.verdicts import judge
from agenticrec.llm import LLMClient, LLMResult, Message, load_prompt, quote_data, short_answer

TOKENS_PER_WORD = 2  # generation budget per allowed word; values are cut to the word limit afterwards
JUDGE_CHARS = 600


def field_name(name: str) -> str:
    """The item column of a signal: its name in snake case (``Primary Use Case`` -> ``primary_use_case``)."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "signal"


def chosen_proposal(run_dir: Path, config: AugmentConfig) -> dict[str, Any]:
    kept = [p for p in artifacts.read_json(run_dir, artifacts.PROPOSALS) if p["kept"]]
    if config.signal >= len(kept):
        raise AgenticRecError(f"augment.signal={config.signal}, but {len(kept)} proposal(s) were kept")
    return dict(kept[config.signal])


def writer_messages(dataset: Dataset, proposal: dict[str, Any], words: int, item_text: str) -> list[Message]:
    """The request for one item's value: the instructions, the proposal's three examples as earlier user/assistant
    turns (written into the system message, a small model answered every item with the last example's value),
    then the item. Everything before the item is the same for every item, so the engine evaluates it once."""
    system = load_prompt(__file__, "prompts/signal_writer.md").render(
        name=proposal["name"], definition=proposal["definition"], words=words
    )
    shots: list[Message] = []
    for example in proposal["examples"]:
        shots += [
            {"role": "user", "content": item_request(dataset.item_text(dataset.item_index(example["item"])))},
            {"role": "assistant", "content": example["value"]},
        ]
    return [{"role": "system", "content": system}, *shots, {"role": "user", "content": item_request(item_text)}]


def item_request(text: str) -> str:
    return quote_data(f"Item: {text}", "item")


def signal_table(values: pd.DataFrame, column: str) -> pd.DataFrame:
    """Every item with its kept value under ``column``; None where the value failed or was dropped."""
    return pd.DataFrame({"item_id": values["item_id"], column: values["value"].where(values["kept"], None)})


VALUES_SCHEMA = pa.schema([
    ("item_id", pa.string()), ("value", pa.string()), ("cut", pa.bool_()), ("absent_attributes", pa.list_(pa.string())),
    ("failed", pa.bool_()), ("consistent", pa.bool_()), ("repetitive", pa.bool_()), ("kept", pa.bool_()),
])  # fmt: skip


@dataclass
class Tally:
    """What the values of every window so far add up to."""

    items: int = 0
    failed: int = 0
    cut: int = 0
    inconsistent: int = 0
    repetitive: int = 0
    kept: int = 0
    words: int = 0

    def add(self, values: pd.DataFrame, consistent: pd.Series) -> None:
        generated = ~values["failed"]
        self.items += len(values)
        self.failed += int(values["failed"].sum())
        self.cut += int(values["cut"].sum())
        self.inconsistent += int((generated & ~consistent).sum())
        self.repetitive += int((generated & values["repetitive"]).sum())
        self.kept += int(values["kept"].sum())
        self.words += int(values.loc[generated, "value"].str.split().map(len).sum())


def value_rows(
    window: list[tuple[str, str, LLMResult]], proposal: dict[str, Any], config: AugmentConfig, client: LLMClient
) -> tuple[pd.DataFrame, pd.Series]:
    """One window of (item id, item text, writer result): each value, cut to the word limit, its checks and
    whether it is kept; and its consistency verdict (False where unknown)."""
    rows = []
    for item_id, text, result in window:
        value, cut = (
            short_answer(result.value, config.words) if result.ok and isinstance(result.value, str) else ("", False)
        )
        absent = absent_attributes(value, text, context=f"{proposal['name']} {proposal['definition']}")
        rows.append({"item_id": item_id, "value": value, "cut": cut, "absent_attributes": absent, "failed": not value})
    values = pd.DataFrame(rows)
    if config.consistency == "judge":
        values["consistent"] = judge_consistency(client, values, [text for _, text, _ in window], proposal)
    else:
        values["consistent"] = values["absent_attributes"].map(len) == 0
    consistent = values["consistent"].fillna(False).astype(bool)
    values["repetitive"] = values["value"].map(repeats_itself)  # a looping answer, e.g. a looping example copied
    values["kept"] = ~values["failed"] & consistent & ~values["repetitive"]
    return values, consistent


def run_generate(
    dataset: Dataset, config: AugmentConfig, client: LLMClient, run_dir: Path, seed: int
) -> dict[str, Any]:
    """Write values.parquet (every value and its check) and signal.parquet (item_id + the kept value, empty for an
    item whose value failed or was dropped), window by window (``llm.executor.window`` items at a time)."""
    started = time.perf_counter()
    proposal = chosen_proposal(run_dir, config)
    column = field_name(proposal["name"])
    if column in dataset.items.columns:
        raise AgenticRecError(f"the signal's column {column!r} is already an item field of {dataset.name}")
    texts, ids = dataset.item_texts(), dataset.item_ids()
    folder, tally, window = artifacts.augment_dir(run_dir), Tally(), client.config.executor.window
    signal_schema = pa.schema([("item_id", pa.string()), (column, pa.string())])
    with (
        parquet_parts(folder / artifacts.VALUES, VALUES_SCHEMA) as write_values,
        parquet_parts(folder / artifacts.SIGNAL, signal_schema) as write_signal,
    ):
        for start in range(0, len(texts), window):
            part = slice(start, start + window)
            results = client.batch(
                SIGNAL_WRITER,
                [writer_messages(dataset, proposal, config.words, text) for text in texts[part]],
                params={"max_tokens": TOKENS_PER_WORD * config.words + 16},
            )
            values, consistent = value_rows(list(zip(ids[part], texts[part], results)), proposal, config, client)
            write_values(values)
            write_signal(signal_table(values, column))
            tally.add(values, consistent)
    generated = tally.items - tally.failed
    summary = {
        "signal": proposal["name"],
        "column": column,
        "items": tally.items,
        "failed_calls": tally.failed,
        "cut_to_word_limit": tally.cut,
        "consistency": config.consistency,
        "dropped_inconsistent": tally.inconsistent,
        "dropped_repetitive": tally.repetitive,
        "signal_drop_rate": (generated - tally.kept) / max(generated, 1),
        "kept": tally.kept,
        "words_mean": tally.words / generated if generated else 0.0,
        "seconds": time.perf_counter() - started,
        "use": f"data.item_fields=[{folder / artifacts.SIGNAL}] and add {column} to data.text_fields",
    }
    write_json(folder / artifacts.GENERATION, summary)
    return summary


def judge_consistency(
    client: LLMClient, values: pd.DataFrame, texts: list[str], proposal: dict[str, Any]
) -> list[bool | None]:
    """The judge's verdict on each generated value (None for failed calls and failed verdicts)."""
    generated = [i for i, failed in enumerate(values["failed"]) if not failed]
    cases = [
        JudgeCase(
            "signal.consistent",
            {
                "item": texts[i],
                "attribute": f"{proposal['name']}: {proposal['definition']}",
                "value": values["value"][i],
            },
        )
        for i in generated
    ]
    verdicts: list[bool | None] = [None] * len(values)
    for i, verdict in zip(generated, judge(client, cases, JUDGE_CHARS)):
        verdicts[i] = verdict
    return verdicts
