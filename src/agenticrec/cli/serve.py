"""``agenticrec serve``: trained runs and compositions behind an HTTP API and a web page."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agenticrec.errors import AgenticRecError


def serve(
    run_dirs: list[Path] = typer.Argument(
        ..., help="run directories, compositions (evolve compose), or folders of runs such as runs/quickstart"
    ),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    events: Path | None = typer.Option(None, help="SQLite event store (default: events.sqlite in the first folder)"),
    api_keys_file: Path | None = typer.Option(
        None, help="file of API keys, one per line, added to AGENTICREC_API_KEYS (keys never go on the command line)"
    ),
    keyed_reads: bool = typer.Option(False, help="require an API key for reads as well as writes"),
    torch_threads: int = typer.Option(1, min=1, help="torch threads per request (requests run in parallel)"),
) -> None:
    """Serve recommendations, items, the vocabulary, explanations and an event log; a page at /, docs at /docs."""
    import torch
    import uvicorn

    from agenticrec.serve import Catalogue, ServeSettings, create_app, load_keys

    if not 0 < port < 65536:
        raise AgenticRecError(f"--port {port} is not a TCP port")
    torch.set_num_threads(torch_threads)
    console = Console()
    catalogue = Catalogue.load(run_dirs)
    settings = ServeSettings(
        api_keys=load_keys(api_keys_file),
        keyed_reads=keyed_reads,
        events_path=events or Path(run_dirs[0]) / "events.sqlite",
    )
    console.print(
        f"serving {', '.join(catalogue.models)} on {catalogue.dataset.name} at http://{host}:{port}/ "
        f"(API docs at /docs; writes {'on' if settings.api_keys else 'off: no API keys'})"
    )
    uvicorn.run(create_app(catalogue, settings), host=host, port=port, log_level="warning")
