"""`travesia sync ...`: a station's key and sync rounds; central's trust in station keys."""

from __future__ import annotations

import base64
from pathlib import Path

import typer
from cryptography.hazmat.primitives import serialization
from rich.table import Table

from travesia.biometrics.service import Biometrics
from travesia.core import crypto
from travesia.core.console import console, database, fail, handles_errors, operator, settings, unit_of_work
from travesia.core.settings import STATION_KEY_FILE
from travesia.stations import service as stations
from travesia.sync import central, repository, station
from travesia.sync.agent import Agent

app = typer.Typer(help="Field stations ↔ central: signing keys, sync rounds, status.", no_args_is_help=True)


def _station_key() -> crypto.Ed25519PrivateKey:
    return crypto.load_or_create_key(settings().data_dir / STATION_KEY_FILE)


@app.command("key")
@handles_errors
def key() -> None:
    """At a station: print its public key (base64) and key id, to register at central with `sync trust`."""
    public = _station_key().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    console.print(f"key id {crypto.key_id(public)}", highlight=False)
    console.print(base64.b64encode(raw).decode(), highlight=False)


@app.command("trust")
@handles_errors
def trust(
    code: str = typer.Argument(..., help="The station's code"),
    public_key: str = typer.Argument(..., help="The station's public key in base64 (from `sync key`), or @FILE (PEM)"),
) -> None:
    """At central: accept batches signed with this key from this station."""
    text = Path(public_key[1:]).read_text(encoding="ascii") if public_key.startswith("@") else public_key
    with unit_of_work() as session:
        row = central.trust_key(session, operator(), code, text)
        console.print(f"station {code.upper()} key [bold]{row.key_id}[/] trusted", highlight=False)


@app.command("revoke")
@handles_errors
def revoke(
    key_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why (a lost laptop, a compromised key)"),
) -> None:
    """At central: refuse every later batch signed with this key."""
    with unit_of_work() as session:
        central.revoke_key(session, operator(), key_id, reason)
    console.print(f"key [bold]{key_id}[/] revoked", highlight=False)


@app.command("keys")
@handles_errors
def keys(code: str = typer.Argument(..., help="The station's code")) -> None:
    """At central: a station's keys, and how far its sync has come."""
    with unit_of_work() as session:
        found = stations.station_by_code(session, code)
        if found is None:
            fail(f"unknown station {code}")
            return
        table = Table("key id", "added", "by", "revoked")
        for row in repository.station_keys(session, found.id):
            revoked = f"{row.revoked_at:%Y-%m-%d} ({row.revoked_reason})" if row.revoked_at else ""
            table.add_row(row.key_id, f"{row.added_at:%Y-%m-%d}", row.added_by, revoked)
        cursor = repository.cursor(session, found.id)
    console.print(table)
    console.print(f"central holds {cursor.last_seq if cursor else 0} registrations from {found.code}", highlight=False)


@app.command("now")
@handles_errors
def now(
    central_url: str = typer.Option(None, "--central", help="Central's address (default TRAVESIA_CENTRAL_URL)"),
    no_images: bool = typer.Option(False, "--no-images", help="Send biographics only (a thin link)"),
) -> None:
    """At a station: one sync round now (pull central's feed, push what central does not hold)."""
    cfg = settings()
    url = central_url or cfg.central_url
    if not url:
        fail("give --central or set TRAVESIA_CENTRAL_URL")
        return
    db = database(cfg)
    if cfg.station:
        with db.transaction() as session:
            station.setup(session, cfg.station, url)
    agent = Agent(db, _station_key(), url, images=not no_images, bio=Biometrics.from_settings(cfg))
    try:
        result = agent.run_once()
    finally:
        agent.close()
        db.dispose()
    console.print(
        f"pulled: {'yes' if result.pulled else 'no'}, alerts {result.alerts}; pushed {result.sent} registrations "
        f"in {result.batches} batches ({result.bytes} bytes), {result.stored} new at central",
        highlight=False,
    )
    if result.error:
        fail(result.error)


@app.command("status")
@handles_errors
def status() -> None:
    """At a station: what is registered, what central holds, the last rounds."""
    cfg = settings()
    with unit_of_work(cfg) as session:
        out = station.status(session, _station_key(), cfg.central_url)
    for name, value in out.model_dump().items():
        console.print(f"{name}: {value}", highlight=False)
