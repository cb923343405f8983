"""How commands print: rich tables and progress for people on stderr/stdout, JSON for scripts."""

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table as RichTable

console = Console(stderr=True)
Format = Annotated[str, typer.Option("--format", help="text or json")]


def emit(data: dict[str, Any], fmt: str, title: str) -> None:
    """One report: a JSON document, or a two-column table."""
    if fmt == "json":
        typer.echo(json.dumps(data, default=str))
        return
    table = RichTable(title=title, show_header=False)
    for key, value in data.items():
        table.add_row(
            key, json.dumps(value, default=str) if isinstance(value, dict) else str(value)
        )
    Console().print(table)


def fail(exc: Exception) -> NoReturn:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(1)


@contextlib.contextmanager
def stdout_kept_for_results() -> Iterator[None]:
    """Send whatever libraries print to stdout (Ray's driver messages) to stderr while the
    block runs, so stdout holds only the command's result (one JSON document with --format json).
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
