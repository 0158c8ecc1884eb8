"""``agenticrec llm``: the LLM roles the stages declare, the call ledger of a run, and model downloads."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console
from rich.table import Table

from agenticrec.llm.config import LEDGER_FILE
from agenticrec.llm.errors import LLMError
from agenticrec.llm.pull import KNOWN_MODELS, config_snippet, pull_model
from agenticrec.llm.roles import ROLES
from agenticrec.llm.stats import RoleStats, run_stats

StatsFormat = Literal["table", "json", "csv"]
app = typer.Typer(help="LLM roles, and the calls recorded in a run's ledger.", no_args_is_help=True)


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.0f}"


@app.command()
def stats(
    run_dir: Path = typer.Argument(help="run directory holding the ledger"),
    ledger: str = typer.Option(LEDGER_FILE, help="ledger file name inside the run directory"),
    format_: StatsFormat = typer.Option("table", "--format", help="table, or json / csv with full field names"),
) -> None:
    """Print calls, cache hits, tokens, failures, latency percentiles and total seconds per role."""
    rows = run_stats(run_dir, ledger)
    if format_ != "table":
        records = [dataclasses.asdict(r) for r in rows]
        if format_ == "json":
            typer.echo(json.dumps(records, indent=2))
        else:
            writer = csv.DictWriter(sys.stdout, fieldnames=[f.name for f in dataclasses.fields(RoleStats)])
            writer.writeheader()
            writer.writerows(records)
        return
    table = Table(title=f"LLM calls in {run_dir}")
    for name in (
        "role",
        "calls",
        "hits",
        "failed",
        "retries",
        "tok in",
        "tok out",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "seconds",
    ):
        table.add_column(name, justify="left" if name == "role" else "right")
    for r in rows:
        table.add_row(
            r.role,
            f"{r.calls:,}",
            f"{r.cache_hits:,}",
            f"{r.failed:,}",
            f"{r.retries:,}",
            f"{r.tokens_in:,}",
            f"{r.tokens_out:,}",
            _ms(r.latency_p50),
            _ms(r.latency_p90),
            _ms(r.latency_p99),
            f"{r.seconds:,.1f}",
        )
    if len(rows) > 1:
        table.add_row(
            "[bold]all",
            *(
                f"{sum(getattr(r, f) for r in rows):,}"
                for f in ("calls", "cache_hits", "failed", "retries", "tokens_in", "tokens_out")
            ),
            "",
            "",
            "",
            f"{sum(r.seconds for r in rows):,.1f}",
        )
    console = Console()
    # piped, a console is 80 columns wide and the table would cut its cells short: print it at its natural width
    (console if console.is_terminal else Console(width=1000)).print(table)


@app.command()
def roles() -> None:
    """Print the LLM roles the stages declare (the names `llm.roles` accepts) and what each does."""
    table = Table(title="LLM roles")
    table.add_column("role")
    table.add_column("used for")
    for name, description in sorted(ROLES.items()):
        table.add_row(name, description)
    Console().print(table)


@app.command()
def pull(
    name: str = typer.Argument(help=f"one of: {', '.join(sorted(KNOWN_MODELS))}"),
    dest: Path = typer.Option(
        Path(os.environ.get("AGENTICREC_MODEL_DIR", "~/.cache/agenticrec/models")).expanduser(),
        help="folder for the GGUF file ($AGENTICREC_MODEL_DIR by default)",
    ),
) -> None:
    """Download a known instruct GGUF from the Hugging Face hub, verify its checksum and print the `llm:`
    section that uses it. Offline: set `model_path` to a GGUF you have."""
    try:
        path = pull_model(name, dest)
    except LLMError as err:
        raise typer.BadParameter(str(err), param_hint="NAME") from None
    Console(stderr=True).print(f"verified {path}; put this in your run config:")
    print(config_snippet(path))


@app.command()
def finetune(
    examples: Path = typer.Argument(help="curated examples, JSONL: task, item, messages, answer"),
    out: Path = typer.Option(..., "--out", help="folder for the splits, the checkpoint and model.gguf"),
    base: Path | None = typer.Option(None, help="GGUF to start from (default: the embedded SmolLM2-135M)"),
    settings: list[str] = typer.Option([], "--set", help="a fine-tuning setting, e.g. --set epochs=3 --set rank=16"),
) -> None:
    """LoRA-fine-tune the embedded model on curated examples on the CPU (resumable), merge the adapter and write a
    GGUF the embedded backend loads (kept only if llama.cpp's logits on it match PyTorch's)."""
    import yaml
    from pydantic import ValidationError

    from agenticrec.errors import AgenticRecError
    from agenticrec.finetune.config import FinetuneConfig
    from agenticrec.finetune.run import run_finetune
    from agenticrec.llm.backends.embedded import default_model_path

    pairs = [s.partition("=") for s in settings]
    if bad := [s for s, (_, eq, _) in zip(settings, pairs) if not eq]:
        raise typer.BadParameter(f"expected key=value, got {bad[0]!r}", param_hint="--set")
    try:
        config = FinetuneConfig.model_validate({key: yaml.safe_load(value) for key, _, value in pairs})
        summary = run_finetune(examples, out, base or default_model_path(), config)
    except ValidationError as err:
        raise typer.BadParameter(str(err), param_hint="--set") from None
    except AgenticRecError as err:
        Console(stderr=True).print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from None
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
