"""`travesia retention run [--dry-run]` and `travesia subject-access PERSON --out DIR`."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from travesia.core.console import console, handles_errors, operator, settings, unit_of_work
from travesia.core.db import utcnow
from travesia.privacy import retention, service

app = typer.Typer(help="Retention of personal data past its period.")


@app.command("run")
@handles_errors
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed; change nothing."),
    today: str | None = typer.Option(None, "--today", help="Apply as of this date (YYYY-MM-DD); default today."),
) -> None:
    """Anonymise every person past the retention period of their kind (asylum, transit)."""
    rules = retention.load_rules(settings().retention_rules)
    on = date.fromisoformat(today) if today else utcnow().date()
    with unit_of_work() as session:
        report = service.apply_retention(session, operator(), rules, on, dry_run=dry_run)
    table = Table("person", "kind", "last activity", "period ended", title="Past their retention period")
    for d in report.due[:50]:
        table.add_row(d.person_id, d.kind, d.last_activity.isoformat(), d.due_on.isoformat())
    console.print(table)
    verb = "would be anonymised" if dry_run else "anonymised"
    console.print(f"{len(report.due)} persons {verb} ({report.by_kind()}); rules in years: {rules.years}")
    console.print(
        "operational records past their period: " + ", ".join(f"{k} {v}" for k, v in report.operational.items())
    )
    if report.counts:
        console.print("rows touched: " + ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()) if v))


@handles_errors
def subject_access(
    person: str = typer.Argument(..., help="The person's id."),
    out: Path = typer.Option(..., "--out", help="Folder for report.json and report.pdf."),
) -> None:
    """Everything held about a person, as JSON and PDF, for the data protection officer."""
    with unit_of_work() as session:
        report = service.subject_access(session, operator(), uuid.UUID(person))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "report.pdf").write_bytes(service.subject_access_pdf(report))
    console.print(f"wrote {out / 'report.json'} and {out / 'report.pdf'}")
