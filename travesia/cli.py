"""The `travesia` command."""

from __future__ import annotations

import os

import typer

from travesia import __version__
from travesia.audit.cli import app as audit_app
from travesia.auth.cli import app as users_app
from travesia.biometrics.cli import app as biometrics_app
from travesia.core.cli_db import app as db_app
from travesia.core.console import console, handles_errors, settings
from travesia.core.settings import settings_table
from travesia.demo import app as demo_app
from travesia.enrolment.cli import import_app, mrz_app
from travesia.exchange.cli import app as exchange_app
from travesia.identity.cli import app as identity_app
from travesia.identity.cli import resolve
from travesia.network.cli import app as network_app
from travesia.pipeline.cli import app as jobs_app
from travesia.pipeline.cli import run_workers
from travesia.privacy.cli import app as retention_app
from travesia.privacy.cli import subject_access
from travesia.programmes.cli import app as pathways_app
from travesia.protection.cli import app as passes_app
from travesia.protection.cli import verify_pass
from travesia.screening.cli import app as watchlist_app
from travesia.screening.cli import screen
from travesia.stations.cli import app as stations_app
from travesia.statistics.cli import stats
from travesia.sync.cli import app as sync_app
from travesia.synth.cli import synth

app = typer.Typer(
    help="Travesía: registration, screening and protection for people in transit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(stations_app, name="stations")
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")
app.add_typer(mrz_app, name="mrz")
app.add_typer(import_app, name="import")
app.add_typer(biometrics_app, name="biometrics")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(jobs_app, name="jobs")
app.add_typer(identity_app, name="identity")
app.add_typer(network_app, name="network")
app.add_typer(passes_app, name="passes")
app.add_typer(retention_app, name="retention")
app.add_typer(pathways_app, name="pathways")
app.add_typer(sync_app, name="sync")
app.add_typer(exchange_app, name="exchange")
app.command("subject-access")(subject_access)
app.command("verify-pass")(verify_pass)
app.command("stats")(stats)
app.command("screen")(screen)
app.command("resolve")(resolve)
app.command("synth")(synth)
app.command("worker")(run_workers)


@app.command()
@handles_errors
def serve(
    host: str = typer.Option(None, help="Listen address (default TRAVESIA_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default TRAVESIA_PORT, 8000)."),
    station: str = typer.Option(None, help="Run as this field station, offline first (default TRAVESIA_STATION)."),
    central: str = typer.Option(None, help="Central's address for the station's sync (default TRAVESIA_CENTRAL_URL)."),
    worker: bool = typer.Option(
        None, "--worker/--no-worker", help="Start and supervise one worker process (default TRAVESIA_WORKER, on)."
    ),
) -> None:
    """Serve the web application and the API (with --station: a field station that syncs with central); one worker
    process runs the steps after enrolment unless --no-worker (then run `travesia worker` separately)."""
    import uvicorn

    from travesia.app import create_app
    from travesia.core.logging import configure_logging
    from travesia.pipeline.worker import Supervisor

    # Through the environment, so that every worker process reads the same settings.
    if station:
        os.environ["TRAVESIA_STATION"] = station
    if central:
        os.environ["TRAVESIA_CENTRAL_URL"] = central
    cfg = settings()
    configure_logging(cfg.log_level)
    # Several workers need an import string (each process builds its own app from the same environment).
    application = create_app(cfg) if cfg.workers == 1 else "travesia.app:create_web_process"
    supervisor = Supervisor(1) if (cfg.worker if worker is None else worker) else None
    if supervisor is not None:
        supervisor.start()
    try:
        uvicorn.run(
            application,
            factory=cfg.workers > 1,
            workers=cfg.workers,
            host=host or cfg.host,
            port=port or cfg.port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,  # a SIGTERM ends the server within seconds, whatever clients do
            # A new web process imports the whole application (about 3 s, longer while N start at once on two
            # cores): uvicorn's default 5 s before it counts a process as dead restarted them in a loop.
            timeout_worker_healthcheck=30,
        )
    finally:
        if supervisor is not None:
            supervisor.stop()


@app.command()
@handles_errors
def config() -> None:
    """Show the settings with their environment variables and current values (secrets hidden)."""
    cfg = settings()
    for variable, _default, description in settings_table():
        field = variable.removeprefix("TRAVESIA_").lower()
        value = getattr(cfg, field)
        shown = "(set)" if field in {"secret_key", "data_keys"} and value else value
        console.print(f"[bold]{variable}[/] = {shown}  [dim]{description}[/]", highlight=False)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
