"""`travesia mrz check FILE|-`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from travesia.core.console import console, err_console
from travesia.enrolment.mrz import MrzFormatError, parse

mrz_app = typer.Typer(help="Machine-readable zones (ICAO 9303).", no_args_is_help=True)


@mrz_app.command("check")
def check(source: str = typer.Argument(..., help="A file holding the zone, or - for standard input.")) -> None:
    """Parse and check a TD1, TD2, TD3, MRV-A or MRV-B zone: the fields as JSON, or the problems (exit 1)."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        err_console.print(f"[bold red]error:[/] {source}: {error.strerror}")
        raise typer.Exit(1) from None
    try:
        zone = parse(text)
    except MrzFormatError as error:
        for problem in error.problems:
            err_console.print(f"[bold red]error:[/] {problem}", highlight=False)
        raise typer.Exit(1) from None
    if not zone.valid:
        for problem in zone.problems:
            err_console.print(f"[bold red]error:[/] {problem}", highlight=False)
        raise typer.Exit(1)
    console.print_json(json.dumps(zone.as_dict()))
