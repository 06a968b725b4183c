"""`travesia mrz check FILE|-` and `travesia import encounters FILE`."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from travesia.core.console import console, database, err_console, fail, handles_errors, operator
from travesia.enrolment import bulk
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


import_app = typer.Typer(help="Bulk import.", no_args_is_help=True)
UNKNOWN_STATION = "Unknown station code: "  # the English of enrolment's refusal, as the rejects file holds it


@import_app.command("encounters")
@handles_errors
def import_encounters(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv or .jsonl file."),
    report_path: Path = typer.Option(None, "--report", help="Rejected rows (CSV); default: FILE.rejects.csv"),
    batch_size: int = typer.Option(2000, "--batch", min=1, max=50_000, help="Rows per transaction."),
    processes: int = typer.Option(
        None, "--processes", min=1, max=64, help="Processes checking rows (default: one a core for a file over 4 MB)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Import encounters: streamed, idempotent by id, each row whole or not at all; rejected rows reported."""
    report_path = report_path or source.with_suffix(source.suffix + ".rejects.csv")
    db = database()
    started = time.perf_counter()
    columns = (
        TextColumn("[bold]import"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
    )
    with (
        open(report_path, "w", encoding="utf-8", newline="") as rejects_file,
        Progress(*columns, console=err_console, disable=quiet, transient=True) as progress,
    ):
        writer = csv.writer(rejects_file)
        writer.writerow(["line", "field", "reason"])
        unknown_stations: set[str] = set()

        def reject(r: bulk.Reject) -> None:
            writer.writerow([r.line, r.field, r.reason])
            if r.field == "station" and r.reason.startswith(UNKNOWN_STATION):
                unknown_stations.add(r.reason.removeprefix(UNKNOWN_STATION))

        task = progress.add_task("import", total=source.stat().st_size, rows=0)
        try:
            report, digest = bulk.run_import(
                db,
                operator(),
                source,
                batch_size=batch_size,
                processes=processes,
                on_reject=reject,
                on_progress=lambda done, rows: progress.update(task, completed=done, rows=rows),
            )
        except bulk.FileProblem as problem:
            fail(f"{source}: {problem} — rows before it were imported, none after")
            return
        finally:
            db.dispose()
    elapsed = time.perf_counter() - started
    console.print(
        f"{source.name}: read {report.read}, stored {report.stored}, already present {report.unchanged}, "
        f"rejected {report.rejected} ({report.read / max(elapsed, 1e-9):,.0f} rows/s); sha256 {digest[:16]}…"
    )
    if report.rejected:
        console.print(f"rejected rows with line, field and reason: {report_path}")
        if unknown_stations:
            console.print(
                f"unknown stations: {', '.join(sorted(unknown_stations))}. Add them first with "
                f"`travesia stations add CODE --name NAME`, or for a synthetic population "
                f"`travesia stations import {source.parent / 'stations.jsonl'}`; importing again adds only the "
                f"rows not stored yet.",
                highlight=False,
                soft_wrap=True,  # a command to copy, never broken across lines
            )
        raise typer.Exit(3)
