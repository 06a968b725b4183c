"""`travesia users ...`: create the first admin, list accounts, compute a TOTP code from a secret."""

from __future__ import annotations

import json
import time

import pyotp
import typer
from rich.table import Table

from travesia.auth import accounts
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.auth.service import AuthContext
from travesia.core.console import (
    console,
    fail,
    handles_errors,
    operator,
    read_secret_from_stdin,
    settings,
    unit_of_work,
)
from travesia.core.crypto import Keyring
from travesia.core.principal import Role
from travesia.core.settings import Settings

app = typer.Typer(help="User accounts.", no_args_is_help=True)


def auth_context(cfg: Settings) -> AuthContext:
    return AuthContext(
        settings=cfg,
        hasher=Hasher(cfg.argon2_time_cost, cfg.argon2_memory_kib),
        keyring=Keyring(cfg.keyring_spec),
    )


@app.command("create")
@handles_errors
def create(
    username: str = typer.Argument(..., help="Lower-case login name, e.g. maria.rios"),
    role: list[Role] = typer.Option(..., "--role", "-r", help="Role; repeat for several."),
    station: list[str] = typer.Option(..., "--station", "-s", help="Station code; repeat; first is home."),
    name: str = typer.Option(None, "--name", help="Display name (default: the user name)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Create a user account (the first admin, or anyone, from the console)."""
    if password_stdin:
        password = read_secret_from_stdin()
    else:
        password = typer.prompt("Password (15+ characters)", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            username=username, display_name=name or username, password=password, roles=role, stations=station
        )
    except ValueError as error:
        fail(str(error))
        return
    cfg = settings()
    with unit_of_work(cfg) as session:
        user = accounts.create_user(session, auth_context(cfg), operator(), data)
        out = accounts.to_out(user)
    console.print(f"created user [bold]{out.username}[/] ({', '.join(out.roles)}) id={out.id}")
    if any(r in (Role.ADMIN, Role.ANALYST) for r in out.roles):
        console.print("This role must set up a second factor (TOTP app) at first login.")


@app.command("list")
@handles_errors
def list_users(as_json: bool = typer.Option(False, "--json")) -> None:
    """List accounts with their roles and stations."""
    with unit_of_work() as session:
        users = [accounts.to_out(u) for u in accounts.list_users(session, operator())]
    if as_json:
        console.print_json(json.dumps([u.model_dump(mode="json") for u in users]))
        return
    table = Table("user", "roles", "stations", "active", "2FA")
    for u in users:
        table.add_row(
            u.username,
            ", ".join(u.roles),
            ", ".join(s.code for s in u.stations),
            "yes" if u.is_active else "no",
            "yes" if u.second_factor else "no",
        )
    console.print(table)


@app.command("totp-code")
def totp_code(
    secret: str = typer.Argument(..., help="Base32 secret shown when the second factor was set up."),
) -> None:
    """Print the current 6-digit code for a TOTP secret (for demos and for testing an authenticator)."""
    try:
        code = pyotp.TOTP(secret.strip().replace(" ", "")).now()
    except (ValueError, TypeError):
        fail("not a base32 TOTP secret")
        return
    console.print(f"{code}  (valid {30 - int(time.time()) % 30}s more)")


@app.command("set-password")
@handles_errors
def set_password(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a user's password from the console (recovery); ends the user's sessions."""
    password = (
        read_secret_from_stdin()
        if password_stdin
        else typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    )
    cfg = settings()
    with unit_of_work(cfg) as session:
        accounts.set_password(session, auth_context(cfg), operator(), username, password)
    console.print(f"password of [bold]{username}[/] changed; its sessions ended")


@app.command("reset-second-factor")
@handles_errors
def reset_second_factor(username: str = typer.Argument(...)) -> None:
    """Remove a user's second factor (lost phone); they set up a new one at next login."""
    with unit_of_work() as session:
        accounts.reset_second_factor_by_name(session, operator(), username)
    console.print(f"second factor of [bold]{username}[/] removed; it will be set up again at next login")
