import os
import subprocess
import sys

import pytest

from travesia.core.settings import ConfigError, load_settings, parse_data_keys


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TRAVESIA_PORT", "eighty", "TRAVESIA_PORT"),
        ("TRAVESIA_PORT", "70000", "less than or equal to 65535"),
        ("TRAVESIA_DATABASE_URL", "mysql://db/x", "must be a sqlite:/// or postgresql:// URL"),
        ("TRAVESIA_SECRET_KEY", "short", "at least 32 characters"),
        ("TRAVESIA_DATA_KEYS", "k1:bm90LTMyLWJ5dGVz", "must decode to 32 bytes"),
        ("TRAVESIA_DEFAULT_LOCALE", "fr", "TRAVESIA_DEFAULT_LOCALE"),
        ("TRAVESIA_COOKIE_SECURE", "maybe", "TRAVESIA_COOKIE_SECURE"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert variable in str(error.value)
    assert expected in str(error.value)


def test_secret_values_are_not_echoed(monkeypatch):
    monkeypatch.setenv("TRAVESIA_SECRET_KEY", "tiny-secret")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "tiny-secret" not in str(error.value)


def test_postgres_url_is_normalised_to_psycopg3(monkeypatch):
    monkeypatch.setenv("TRAVESIA_DATABASE_URL", "postgresql://u@127.0.0.1/x")
    assert load_settings().sqlalchemy_url == "postgresql+psycopg://u@127.0.0.1/x"


def test_generated_secrets_persist_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAVESIA_DATA_DIR", str(tmp_path))
    first, second = load_settings(), load_settings()
    assert first.secret == second.secret and len(first.secret) >= 32
    assert first.keyring_spec == second.keyring_spec
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_data_keys_keep_their_order_and_reject_duplicates():
    key = "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0="  # 32 bytes
    assert list(parse_data_keys(f"new:{key},old:{key}")) == ["new", "old"]
    with pytest.raises(ValueError, match="twice"):
        parse_data_keys(f"k:{key},k:{key}")


@pytest.mark.slow
def test_serve_refuses_to_start_with_a_bad_setting(tmp_path):
    env = {**os.environ, "TRAVESIA_DATA_DIR": str(tmp_path), "TRAVESIA_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "travesia.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "TRAVESIA_PORT" in result.stderr
    assert "valid integer" in result.stderr
