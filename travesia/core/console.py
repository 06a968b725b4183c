"""What every CLI command shares: settings, the database, the acting principal, and clean error exits."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from travesia.core.db import Database
from travesia.core.errors import DomainError
from travesia.core.i18n import gettext_for
from travesia.core.principal import Principal, cli_principal
from travesia.core.settings import ConfigError, Settings, load_settings

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    return load_settings()


def database(cfg: Settings | None = None) -> Database:
    cfg = cfg or settings()
    return Database(cfg.sqlalchemy_url, sqlite_synchronous=cfg.sqlite_synchronous)


@contextmanager
def unit_of_work(cfg: Settings | None = None) -> Iterator[Session]:
    db = database(cfg)
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.dispose()


def operator() -> Principal:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return cli_principal(name)


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def handles_errors(func: F) -> F:
    """Configuration and domain errors end the command with a clear message and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as error:
            err_console.print(f"[bold red]configuration error:[/]\n{error}", highlight=False)
            raise typer.Exit(2) from None
        except DomainError as error:
            field = f"{error.field}: " if error.field else ""
            fail(field + error.translated(gettext_for("en")))

    return wrapper  # type: ignore[return-value]


def read_secret_from_stdin() -> str:
    return sys.stdin.readline().rstrip("\n")
