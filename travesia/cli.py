"""The `travesia` command."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from travesia import __version__
from travesia.core.console import console, handles_errors, settings
from travesia.core.settings import settings_table

# Each command's module is imported only when that command runs: importing every domain (matchers, ICU, pandas,
# followthemoney) took 3.4 s before any command started, a cost paid by every operator's call and every test's.
# name → (module, attribute, a group of subcommands rather than one command)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "db": ("travesia.core.cli_db", "app", True),
    "users": ("travesia.auth.cli", "app", True),
    "stations": ("travesia.stations.cli", "app", True),
    "audit": ("travesia.audit.cli", "app", True),
    "demo": ("travesia.demo", "app", True),
    "mrz": ("travesia.enrolment.cli", "mrz_app", True),
    "import": ("travesia.enrolment.cli", "import_app", True),
    "biometrics": ("travesia.biometrics.cli", "app", True),
    "watchlist": ("travesia.screening.cli", "app", True),
    "jobs": ("travesia.pipeline.cli", "app", True),
    "identity": ("travesia.identity.cli", "app", True),
    "network": ("travesia.network.cli", "app", True),
    "passes": ("travesia.protection.cli", "app", True),
    "retention": ("travesia.privacy.cli", "app", True),
    "pathways": ("travesia.programmes.cli", "app", True),
    "sync": ("travesia.sync.cli", "app", True),
    "exchange": ("travesia.exchange.cli", "app", True),
    "subject-access": ("travesia.privacy.cli", "subject_access", False),
    "verify-pass": ("travesia.protection.cli", "verify_pass", False),
    "stats": ("travesia.statistics.cli", "stats", False),
    "screen": ("travesia.screening.cli", "screen", False),
    "resolve": ("travesia.identity.cli", "resolve", False),
    "synth": ("travesia.synth.cli", "synth", False),
    "worker": ("travesia.pipeline.cli", "run_workers", False),
}

app = typer.Typer(
    help="Travesía: registration, screening and protection for people in transit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_added: set[str] = set()


def build(command: str | None = None) -> typer.Typer:
    """The `travesia` command with ``command``'s module loaded, or every module when None (for help and tests)."""
    names = [command] if command in COMMANDS else list(COMMANDS)
    for name in names:
        if name in _added:
            continue
        module, attribute, group = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if group:
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
        _added.add(name)
    return app


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
    training: bool = typer.Option(
        False, "--training", help="Serve the training system `travesia demo training` made (DATA_DIR/training)."
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
    if training:  # its own folder and database, every page marked (refused where no training folder was made)
        from travesia.demo import training_folder

        training_folder(settings())
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


def first_command(argv: list[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main() -> None:
    build(first_command(sys.argv[1:]))()


if __name__ == "__main__":
    main()
