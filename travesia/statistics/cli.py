"""`travesia stats`: the headline figures, and with --out every dashboard table as CSV."""

from __future__ import annotations

from pathlib import Path

import typer

from travesia.core.console import console, handles_errors, operator, unit_of_work
from travesia.core.db import utcnow
from travesia.statistics import service


@handles_errors
def stats(
    out: Path | None = typer.Option(None, "--out", help="Folder for the dashboard's tables as CSV."),
    grain: str = typer.Option("month", "--grain", help="day, week or month"),
    release: Path | None = typer.Option(None, "--release", help="Folder for the public release (CSV tables, PDF)."),
    epsilon: float = typer.Option(1.0, "--epsilon", help="The release's total privacy budget."),
    threshold: int = typer.Option(10, "--threshold", help="Cells under this are published as '<threshold'."),
) -> None:
    """Print the headline figures (registrations, persons per year, alerts); write the tables with --out."""
    with unit_of_work() as session:
        added = service.refresh(session, utcnow())
        console.print(f"roll-ups refreshed ({added:,} registrations added)")
        figures = service.headline(session)
        console.print(f"registrations: {figures['registrations']:,}   persons: {figures['persons']:,}")
        for year, n in figures["persons_by_year"].items():  # type: ignore[union-attr]
            console.print(f"  {year}: {n:,} persons")
        console.print(f"alerts: {figures['alerts']:,} ({figures['alerts_confirmed']:,} confirmed)")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            default = service.default_filters(utcnow().date())
            filters = service.Filters(default.start.replace(year=1990), default.end, None, grain)
            for chart in service.dashboard(session, operator(), filters):
                (out / f"{chart.id}.csv").write_text(service.csv_of(chart.table), encoding="utf-8")
            console.print(f"wrote the dashboard's tables to {out}")
        if release is not None:
            made = service.public_release(session, operator(), epsilon, threshold)
            written = service.write_release(made, release)
            console.print(f"public release (ε={made.epsilon:g}, spent {made.spent:.4f}, cells under {threshold} "
                          f"suppressed): {', '.join(p.name for p in written)}")  # fmt: skip
