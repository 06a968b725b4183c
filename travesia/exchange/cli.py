"""`travesia exchange ...`: data-sharing agreements, partner keys, NIST exports and imports (the partner liaison)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from travesia.biometrics import service as biometrics
from travesia.biometrics.service import Biometrics
from travesia.core.console import console, database, fail, handles_errors, operator, settings, unit_of_work
from travesia.exchange import exports, imports, repository, service
from travesia.exchange.schemas import AgreementIn, ExportIn

app = typer.Typer(
    help="Partners: data-sharing agreements, API keys, ANSI/NIST-ITL exports and imports.", no_args_is_help=True
)


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())


@app.command("agreement-add")
@handles_errors
def agreement_add(file: Path = typer.Argument(..., help="The agreement as JSON (see docs/exchange.md)")) -> None:
    """Record a data-sharing agreement."""
    try:
        data = AgreementIn.model_validate_json(file.read_text(encoding="utf-8"))
    except ValidationError as error:
        fail(f"{file}: {_problems(error)}")
        return
    with unit_of_work() as session:
        row = service.create_agreement(session, operator(), data)
        console.print(f"agreement [bold]{row.name}[/] with {row.partner} recorded", highlight=False)


@app.command("agreements")
@handles_errors
def agreements() -> None:
    """The agreements: partner, directions, fields, validity."""
    table = Table("name", "partner", "directions", "fields", "modalities", "valid", "state")
    with unit_of_work() as session:
        for a in repository.agreements(session):
            state = "suspended" if a.suspended_at else "in force"
            table.add_row(
                a.name,
                a.partner,
                ",".join(a.directions),
                ",".join(a.fields),
                ",".join(a.modalities),
                f"{a.valid_from} – {a.expires_on}",
                state,
            )
    console.print(table)


@app.command("key-create")
@handles_errors
def key_create(agreement: str, label: str = typer.Option("", "--label")) -> None:
    """A partner API key bound to the agreement (shown once)."""
    with unit_of_work() as session:
        key, token = service.create_key(session, operator(), agreement, label)
        console.print(f"key {key.id}: [bold]{token}[/]", highlight=False)


@app.command("key-revoke")
@handles_errors
def key_revoke(key_id: uuid.UUID) -> None:
    """Refuse every later request made with this key."""
    with unit_of_work() as session:
        service.revoke_key(session, operator(), key_id)
    console.print(f"key {key_id} revoked", highlight=False)


@app.command("export")
@handles_errors
def export(
    agreement: str,
    purpose: str = typer.Option(..., "--purpose", help="One of the agreement's purposes"),
    out: Path = typer.Option(..., "--out", help="Where to write the file"),
    fmt: str = typer.Option("nist", "--format", help="nist (ANSI/NIST-ITL, binary) or jsonl"),
    registered_from: str = typer.Option(None, "--from", help="YYYY-MM-DD"),
    registered_to: str = typer.Option(None, "--to", help="YYYY-MM-DD"),
    nationality: str = typer.Option(None, "--nationality"),
    station: str = typer.Option(None, "--station"),
) -> None:
    """Export the persons registered in a period under an agreement, with only the fields it names."""
    try:
        data = ExportIn(
            purpose=purpose,
            format=fmt,
            registered_from=registered_from,
            registered_to=registered_to,
            nationality=nationality,
            station=station,
        )  # type: ignore[arg-type]
    except ValidationError as error:
        fail(_problems(error))
        return
    cfg = settings()
    with unit_of_work(cfg) as session:
        job = exports.request_export(session, operator(), service.agreement_named(session, agreement).id, data)
        job_id = job.id
    db = database(cfg)
    try:
        done = exports.run_export(db, job_id, cfg.data_dir)
    finally:
        db.dispose()
    shutil.copyfile(exports.export_file(cfg.data_dir, job_id, done.format), out)
    console.print(f"{done.records} persons written to {out} ({done.size} bytes, sha256 {done.sha256})", highlight=False)


@app.command("import")
@handles_errors
def import_(
    file: Path,
    agreement: str = typer.Option(..., "--agreement"),
    list_name: str = typer.Option(..., "--list", help="The watchlist the partner's persons go into"),
    mode: str = typer.Option("full", "--mode", help="full (the file replaces the list) or delta"),
) -> None:
    """Import a partner's ANSI/NIST-ITL file into a watchlist (checked field by field, under its agreement)."""
    bio = Biometrics.from_settings(settings())
    biometrics.load(bio)  # the persisted indexes: earlier registrations are searched with the partner's images
    with unit_of_work() as session:
        result = imports.import_nist(
            session, operator(), agreement, list_name, file.read_bytes(), file_name=file.name, mode=mode, bio=bio
        )
    report = result.report
    console.print(
        f"{result.persons} persons ({result.faces} faces, {result.fingers} fingerprints; {result.templates} "
        f"templates for biometric screening) → list version "
        f"{report.version}: {report.added} added, {report.changed} changed, {report.removed} removed",
        highlight=False,
    )
    if result.ignored_fields:
        console.print(f"not in the agreement, not taken: {', '.join(result.ignored_fields)}", highlight=False)


@app.command("run")
@handles_errors
def run() -> None:
    """Run the export jobs still queued (after a restart)."""
    cfg = settings()
    db = database(cfg)
    try:
        with db.transaction(readonly=True) as session:
            queued = list(repository.queued_jobs(session))
        for job_id in queued:
            done = exports.run_export(db, job_id, cfg.data_dir)
            console.print(json.dumps({"job": str(job_id), "records": done.records}), highlight=False)
    finally:
        db.dispose()
