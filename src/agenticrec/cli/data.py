"""``agenticrec data``: list registered datasets and print their statistics."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.config import apply_override, parse_override
from agenticrec.data import DATASETS, load_dataset

app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)


@app.command("list")
def list_datasets() -> None:
    """List the registered datasets."""
    table = Table("name", "description")
    for name, spec in DATASETS.items():
        table.add_row(name, spec.description)
    Console().print(table)


@app.command()
def stats(
    name: str = typer.Argument(help="registered dataset name"),
    data_dir: Path | None = typer.Option(
        None, help="benchmark data root (default: $AGENTICREC_DATA_DIR or ../shared/data)"
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="loader option key=value, repeatable"),
) -> None:
    """Load a dataset and print users, items, interactions and sequence lengths."""
    options: dict = {}
    for text in option:
        apply_override(options, *parse_override(text))
    dataset = load_dataset(name, options, data_dir)
    table = Table("statistic", "value", title=name)
    for key, value in dataset.stats().items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:.6g}")
    Console().print(table)
