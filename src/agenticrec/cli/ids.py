"""``agenticrec ids``: build a run's semantic item IDs as a stage of their own."""

from __future__ import annotations

import typer
from rich.console import Console

from agenticrec.commands import config_command
from agenticrec.pipeline import RunConfig
from agenticrec.pipeline.stages import ids_build
from agenticrec.semantic_ids import semantic_ids_path

app = typer.Typer(help="Semantic item IDs (residual k-means, descriptor paths, category paths).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keeps `build` a subcommand."""


@config_command(app, "build", llm=False)
def build(cfg: RunConfig, fresh: bool) -> None:
    """Build the configured semantic IDs (`semantic_ids.method`) into RUN_DIR/semantic_ids/."""
    ids = ids_build(cfg, fresh)
    stats = ids.stats()
    Console().print(
        f"{stats['items']:,} items, {stats['distinct_paths']:,} distinct paths, collision rate "
        f"{stats['collision_rate']:.1%}, largest bucket {stats['largest_bucket']:,}, tokens per level "
        f"{stats['tokens_per_level']}"
    )
    Console().print(f"wrote {semantic_ids_path(cfg.run_dir, ids.method)}")
