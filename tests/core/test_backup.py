"""Backups restore: `travesia db backup` then `travesia db restore` on a new data folder brings back every row and
the keys (encrypted fields readable, audit chain intact), on SQLite and on PostgreSQL; a damaged backup or a data
folder with other keys is refused before anything is overwritten."""

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.live import cli_env, run_cli
from travesia.core.crypto import Keyring
from travesia.core.settings import load_settings


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("encounters", "users", "audit_events", "stations", "sharing_agreements")}  # fmt: skip
    engine.dispose()
    return found


def wipe(url: str, path: Path) -> None:
    """The machine is lost: the database gone (its file, or its tables)."""
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def test_backup_and_restore_on_a_new_machine(fresh_database_url, tmp_path):
    url = fresh_database_url
    old = cli_env(url, tmp_path / "old")
    assert run_cli(old, "db", "upgrade").returncode == 0
    assert run_cli(old, "demo", "setup", "--people", "0").returncode == 0  # stations, accounts, agreements
    assert run_cli(old, "synth", "--people", "30", "--seed", "7", "--out", str(tmp_path / "synth")).returncode == 0
    assert run_cli(old, "import", "encounters", str(tmp_path / "synth" / "encounters.jsonl")).returncode == 0
    before = counts(url)
    assert before["encounters"] > 30 and before["audit_events"] > 0

    made = run_cli(old, "db", "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "backup" / "backup.json").exists() and (tmp_path / "backup" / "data" / "data-keys").exists()
    refused = run_cli(old, "db", "backup", str(tmp_path / "backup"))  # never over an earlier backup
    assert refused.returncode != 0 and "not empty" in refused.stderr + refused.stdout

    wipe(url, Path(url.removeprefix("sqlite:///")))
    new = cli_env(url, tmp_path / "new")
    restored = run_cli(new, "db", "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    assert counts(url) == before
    assert (tmp_path / "new" / "data-keys").read_bytes() == (tmp_path / "old" / "data-keys").read_bytes()
    verified = run_cli(new, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # an encrypted field reads back under the restored keys: the demo admin's second-factor secret
    settings = load_settings(data_dir=str(tmp_path / "new"), database_url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        user_id, secret = conn.execute(text("SELECT id, totp_secret FROM users WHERE username = 'demo-admin'")).one()
    engine.dispose()
    plain = Keyring(settings.keyring_spec).decrypt(secret, context=b"totp:" + uuid.UUID(str(user_id)).bytes)
    assert len(plain) == 32


def test_a_damaged_backup_or_other_keys_are_refused_before_anything_changes(fresh_database_url, tmp_path):
    url = fresh_database_url
    env = cli_env(url, tmp_path / "data")
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "demo", "setup", "--people", "0").returncode == 0
    assert run_cli(env, "db", "backup", str(tmp_path / "backup")).returncode == 0
    before = counts(url)

    other = cli_env(url, tmp_path / "other")  # a data folder whose keys are not the backup's
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data-keys").write_text("k9:" + "A" * 43 + "=\n")
    clash = run_cli(other, "db", "restore", str(tmp_path / "backup"))
    assert clash.returncode != 0 and "data-keys" in clash.stdout + clash.stderr
    assert (tmp_path / "other" / "data-keys").read_text().startswith("k9:")

    keys = tmp_path / "backup" / "data" / "data-keys"
    keys.write_bytes(keys.read_bytes() + b"\n")
    damaged = run_cli(env, "db", "restore", str(tmp_path / "backup"))
    assert damaged.returncode != 0 and "data/data-keys" in damaged.stdout + damaged.stderr
    assert counts(url) == before
