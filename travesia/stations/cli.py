"""`travesia stations ...`."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from travesia.core.console import console, fail, handles_errors, operator, unit_of_work
from travesia.stations import service
from travesia.stations.schemas import StationCreate

app = typer.Typer(help="Stations (reception centres, border posts, headquarters).", no_args_is_help=True)


@app.command("add")
@handles_errors
def add(
    code: str = typer.Argument(..., help="Short code, e.g. ERM-LAJAS-BLANCAS"),
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option(
        "reception", "--kind", help="reception, border_post, airport, seaport, shelter, headquarters"
    ),
    region: str = typer.Option(None, "--region"),
    capacity: int = typer.Option(None, "--capacity"),
    latitude: float = typer.Option(None, "--lat"),
    longitude: float = typer.Option(None, "--lon"),
    country: str = typer.Option("PA", "--country"),
) -> None:
    """Add a station."""
    try:
        data = StationCreate(
            code=code, name=name, kind=kind, region=region, capacity=capacity,  # type: ignore[arg-type]
            latitude=latitude, longitude=longitude, country=country,
        )  # fmt: skip
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))
        return
    with unit_of_work() as session:
        station = service.create_station(session, operator(), data)
        console.print(f"added station [bold]{station.code}[/] id={station.id}")


@app.command("import")
@handles_errors
def import_stations(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one station a line."),
) -> None:
    """Add the stations of a file (as `travesia synth` writes stations.jsonl); known codes are left as they are."""
    with source.open(encoding="utf-8") as lines, unit_of_work() as session:
        added, known = service.import_stations(session, operator(), lines)
    console.print(f"{source.name}: {added} stations added, {known} already known")


@app.command("list")
@handles_errors
def list_stations() -> None:
    """List stations."""
    with unit_of_work() as session:
        rows = service.list_stations(session)
    table = Table("code", "name", "kind", "region", "capacity")
    for s in rows:
        table.add_row(s.code, s.name, s.kind, s.region or "", "" if s.capacity is None else str(s.capacity))
    console.print(table)
