"""`travesia demo setup`: the real reception stations of the Darién route and one demo account per role.

Station names and the San Vicente capacity come from ../shared/reference/darien-figures.md (public sources);
coordinates are approximate. Demo accounts share one printed password; roles that need a second factor get a
TOTP secret that is printed so a tester can add it to an authenticator (or use `travesia users totp-code`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from travesia.auth import accounts
from travesia.auth import service as auth_service
from travesia.auth.cli import auth_context
from travesia.auth.schemas import UserCreate
from travesia.auth.service import AuthContext
from travesia.core import migrations
from travesia.core.console import console, database, handles_errors, operator, settings, unit_of_work
from travesia.core.db import utcnow
from travesia.core.principal import ROLES_REQUIRING_TOTP, Principal, Role
from travesia.core.settings import Settings
from travesia.enrolment import bulk
from travesia.enrolment import reads as enrolment_reads
from travesia.exchange import service as exchange
from travesia.exchange.schemas import AgreementIn
from travesia.identity import runs as identity_runs
from travesia.network import service as network
from travesia.programmes import service as programmes
from travesia.programmes.schemas import FlightIn
from travesia.protection import service as protection
from travesia.screening import jobs as screening_jobs
from travesia.screening import listing
from travesia.screening import reads as screening_reads
from travesia.screening import service as screening
from travesia.screening.schemas import WatchlistIn
from travesia.stations import service as stations
from travesia.statistics import service as statistics
from travesia.synth import network as synth_network
from travesia.synth import population
from travesia.synth import watchlist as synth_watchlist
from travesia.synth.stations import STATIONS
from travesia.training.exercises import MARKER as TRAINING_MARKER

DEMO_PASSWORD = "selva-cruce-2026-darien"  # noqa: S105 - demo only: printed by `make demo`, never for real data


# username, display name, role, stations (first is home)
USERS = [
    ("demo-admin", "Demo Admin", Role.ADMIN, ["SNM-HQ"]),
    ("demo-registro", "Demo Oficial de Registro", Role.REGISTRATION_OFFICER, ["ERM-SAN-VICENTE", "ERM-LAJAS-BLANCAS"]),
    ("demo-analista", "Demo Analista", Role.ANALYST, ["SNM-HQ"]),
    # A second analyst, so that the two-person rule (one proposes, another confirms) can be tried on the demo.
    ("demo-analista-2", "Demo Segunda Analista", Role.ANALYST, ["SNM-HQ"]),
    ("demo-supervisor", "Demo Supervisor", Role.SUPERVISOR, ["ERM-SAN-VICENTE"]),
    ("demo-proteccion", "Demo Protección", Role.PROTECTION_OFFICER, ["ERM-SAN-VICENTE", "SNM-HQ"]),
    ("demo-programas", "Demo Programas", Role.PROGRAMME_OFFICER, ["SNM-HQ"]),
    ("demo-enlace", "Demo Enlace con Socios", Role.PARTNER_LIAISON, ["SNM-HQ"]),
    ("demo-estadistica", "Demo Estadística", Role.STATISTICIAN, ["SNM-HQ"]),
    ("demo-auditoria", "Demo Auditoría", Role.AUDITOR, ["SNM-HQ"]),
]  # fmt: skip


def ensure_stations(session: Session, principal: Principal) -> int:
    created = 0
    for station in STATIONS:
        if stations.station_by_code(session, station.code) is None:
            stations.create_station(session, principal, station)
            created += 1
    return created


def ensure_users(session: Session, ctx: AuthContext, principal: Principal) -> list[tuple[str, str, str]]:
    """Create missing demo users; return (username, role, totp secret or '') for every demo user."""
    rows = []
    for username, name, role, station_codes in USERS:
        user = accounts.find_user(session, username)
        if user is None:
            data = UserCreate(
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                roles=[role],
                stations=station_codes,
            )
            user = accounts.create_user(session, ctx, principal, data)
        secret = ""
        if role in ROLES_REQUIRING_TOTP:
            # Enrolled up front so the demo can sign in with `travesia users totp-code SECRET`.
            uri = auth_service.start_enrolment(session, ctx, user) if user.totp_enabled_at is None else None
            if uri is not None:
                user.totp_enabled_at = utcnow()
            secret = _secret_of(ctx, user)
        rows.append((username, role.value, secret))
    return rows


def _secret_of(ctx: AuthContext, user: object) -> str:
    return ctx.keyring.decrypt(user.totp_secret, context=b"totp:" + user.id.bytes).decode()  # type: ignore[attr-defined]


app = typer.Typer(help="Demo data.", no_args_is_help=True)


def ensure_agreements(session: Session, principal: Principal) -> int:
    """Two example data-sharing agreements for the partner liaison (fictitious terms, real partner kinds)."""
    today = utcnow().date()
    examples = [
        AgreementIn(
            name="dhs-demo",
            partner="U.S. Department of Homeland Security (example)",
            purposes=["border security", "identity verification"],
            legal_basis="Example memorandum of understanding",
            directions=["export", "query"],
            fields=["names", "birth_date", "sex", "nationality", "documents"],
            modalities=["face"],
            retention_days=365,
            valid_from=today,
            expires_on=today + timedelta(days=365),
        ),
        AgreementIn(
            name="co-demo",
            partner="Migración Colombia (example)",
            purposes=["border security"],
            legal_basis="Example bilateral agreement",
            directions=["export", "import"],
            fields=["names", "birth_date", "nationality"],
            retention_days=180,
            valid_from=today,
            expires_on=today + timedelta(days=365),
        ),
    ]
    made = 0
    for example in examples:
        if exchange.find_agreement(session, example.name) is None:
            exchange.create_agreement(session, principal, example)
            made += 1
    return made


DEMO_LIST = WatchlistIn(
    name="demo-vigilancia",
    title="Lista de vigilancia sintética (demostración)",
    owner="Travesía demo",
    legal_basis="Demonstration only: synthetic entries, no real person.",
    sensitivity="restricted",
)
# Loggers of libraries that talk while the demo loads (Splink explains its training in WARNING blocks).
LIBRARY_LOGGERS = ("splink", "py.warnings", "duckdb")
PLANTED_EVERY = 40  # one registered person in forty is also on the demo list, so analysts have alerts to review


def load_watchlist(cfg: Settings, encounters_file: Path, seed: int, size: int = 300) -> int:
    """A synthetic persons list, with a few people of the demo population planted on it as they were registered,
    screened against everyone enrolled: the analysts' queue has alerts to take, propose and confirm. Returns the
    alerts raised (0 when the list exists already)."""
    with unit_of_work(cfg) as session:
        if screening_reads.watchlist_by_name(session, DEMO_LIST.name):
            return 0
        listing.create_list(session, operator(), DEMO_LIST)
    lines = [json.dumps(entity, ensure_ascii=False) for _, entity in synth_watchlist.entries(size, seed)]
    with encounters_file.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh):
            if number % PLANTED_EVERY == PLANTED_EVERY - 1:
                e = json.loads(line)
                entity = {"id": f"demo-planted-{number}", "schema": "Person", "properties": {
                    "name": [f"{e['given_names']} {e['surnames']}"], "birthDate": [e["birth_date"]],
                    "nationality": [e["nationality"]], "topics": ["crime"]}}  # fmt: skip
                lines.append(json.dumps(entity, ensure_ascii=False))
    db = database(cfg)
    try:
        with db.transaction() as session:
            report = listing.import_list(
                session, operator(), DEMO_LIST.name, lines, file_name="demo.jsonl", format_name="ftm"
            )
        return screening_jobs.rescreen_version(db, screening.Screener(), report.version_id)
    finally:
        db.dispose()


@contextmanager
def _step(title: str) -> Iterator[None]:
    """One progress line per step of the demo's loading, with its time."""
    console.print(f"[bold]→ {title}…[/]", highlight=False)
    started = time.monotonic()
    yield
    console.print(f"  [dim]done in {time.monotonic() - started:.1f} s[/]", highlight=False)


@contextmanager
def _library_messages_to(path: Path) -> Iterator[None]:
    """Libraries' own messages (Splink's training notes, Python warnings) go to a log file, not the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved = [(lg.handlers, lg.propagate) for lg in loggers]
    logging.captureWarnings(True)
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
    try:
        yield
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
        logging.captureWarnings(False)
        handler.close()


@app.command("setup")
@handles_errors
def setup(
    people: int = typer.Option(3000, "--people", min=0, help="Synthetic people to register (0: none)."),
    seed: int = typer.Option(2026, "--seed"),
) -> None:
    """Create the Darién stations, one demo account per role and a synthetic population (idempotent: a second
    run adds nothing); print how to sign in. The steps after enrolment (biometrics, screening) are left to the
    worker that `travesia serve` starts: the pages answer while it works through them."""
    cfg = settings()
    ctx = auth_context(cfg)
    log_path = cfg.data_dir / "demo-setup.log"
    with _library_messages_to(log_path):
        with _step("stations, accounts and example agreements"), unit_of_work(cfg) as session:
            created = ensure_stations(session, operator())
            users = ensure_users(session, ctx, operator())
            agreements = ensure_agreements(session, operator())
        console.print(f"  stations: {len(STATIONS)} ({created} new); data-sharing agreements: {agreements} new")
        if people:
            _load_population(cfg, people, seed)
    console.print(f"[dim]Libraries' messages while loading: {log_path}[/]", highlight=False)
    table_of(users)


def _load_population(cfg: Settings, people: int, seed: int) -> None:
    folder = cfg.data_dir / "demo-population"
    with _step(f"synthetic population of {people:,} people (bulk import)"):
        # ending today: the dashboard's last twelve months, the forecast and this year's exports have a real flow
        persons, encounters = population.write(folder, people, seed, ends=date.today())
        db = database(cfg)
        try:
            report, _ = bulk.run_import(db, operator(), folder / "encounters.jsonl")
        finally:
            db.dispose()
    console.print(
        f"  seed {seed}: {persons} people, {encounters} encounters; "
        f"{report.stored} new, {report.unchanged} already there, {report.rejected} rejected"
    )
    if not report.stored:  # the first run only: who is who, then interviews, inspections and the flags they raise
        return
    with _step("identity resolution (Splink)"):
        db = database(cfg)
        try:
            resolved = identity_runs.run_batch(db)
        finally:
            db.dispose()
    console.print(
        f"  {resolved.merged} registrations merged automatically, {resolved.proposed_merges} merges proposed for review"
    )
    with _step("statistics, contacts and inspections"), unit_of_work(cfg) as session:
        statistics.refresh(session, utcnow())
        planted = synth_network.plant(session, operator(), seed=seed)
        flags = network.detect(session, operator())
    console.print(
        f"  {planted.contacts} contacts and {planted.inspections} inspections recorded, "
        f"{len(planted.rings)} smuggling rings planted; {flags.flagged} communities flagged"
    )
    with _step("a synthetic watchlist, screened against everyone"):
        alerts = load_watchlist(cfg, folder / "encounters.jsonl", seed)
    console.print(f"  the list {DEMO_LIST.name}: {alerts} alerts to review")
    console.print(
        "  [dim]the worker that `travesia serve` starts then screens every registration in the background[/]",
        highlight=False,
    )


def table_of(users: list[tuple[str, str, str]]) -> None:
    table = Table("user", "role", "TOTP secret (second factor)", title=f"Demo accounts — password: {DEMO_PASSWORD}")
    for username, role, secret in users:
        table.add_row(username, role, secret or "-")
    console.print(table)
    console.print("Current code for a TOTP secret: .venv/bin/travesia users totp-code SECRET")


@app.command("training")
@handles_errors
def training(
    people: int = typer.Option(600, "--people", min=0, help="Synthetic people in the training database."),
    seed: int = typer.Option(2027, "--seed"),
) -> None:
    """A training system for officials, apart from any live data: its own folder (DATA_DIR/training) and SQLite
    database, marked as training (every page says so), the demo's accounts and synthetic people, and what the
    exercises need (a planned return flight to Haiti with a protected person among the candidates). Serve it with
    `travesia serve --training`."""
    folder = training_folder(settings())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRAINING_MARKER).write_text("made by `travesia demo training`; served only as training\n")
    cfg = settings()
    migrations.upgrade(cfg.sqlalchemy_url)
    setup(people=people, seed=seed)
    scene = folder / "exercises-ready"
    if not scene.exists():  # once: a second run adds no second flight
        with _step("the exercises' scene"), unit_of_work(cfg) as session:
            departs = ensure_training_flight(session, operator())
        scene.write_text(f"return flight to HTI on {departs}\n")
    console.print("Serve it with: travesia serve --training")


def training_folder(cfg: Settings) -> Path:
    """DATA_DIR/training, made the data folder and database of this process (and of the server it starts): a
    training database never shares a file with live data."""
    folder = cfg.data_dir if (cfg.data_dir / TRAINING_MARKER).exists() else cfg.data_dir / "training"
    os.environ["TRAVESIA_DATA_DIR"] = str(folder)
    os.environ["TRAVESIA_DATABASE_URL"] = f"sqlite:///{folder / 'travesia.db'}"
    os.environ["TRAVESIA_TRAINING"] = "true"
    for live in ("TRAVESIA_STATION", "TRAVESIA_CENTRAL_URL"):  # a training system never syncs with central
        os.environ.pop(live, None)
    return folder


def ensure_training_flight(session: Session, principal: Principal) -> date:
    """A return flight to Haiti in a week, and one Haitian adult among its candidates who declared an intention to
    seek asylum (the programme officer's exercise: the gate must refuse them)."""
    departs = date.today() + timedelta(days=7)
    programmes.create_flight(session, principal, FlightIn(kind="repatriation", departs_on=departs,
                             destination="HTI", capacity=60, operator="Servicio Nacional Aeronaval"))  # fmt: skip
    for person in enrolment_reads.adults_of_nationality(session, "HTI", limit=1):
        protection.record_intention(session, principal, person, "training: declared at the desk")
    return departs
