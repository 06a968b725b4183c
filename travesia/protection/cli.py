"""`travesia passes public-key|revocations` and `travesia verify-pass` (offline: files only, no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from travesia.core import crypto
from travesia.core.console import console, err_console, handles_errors, settings, unit_of_work
from travesia.core.images import ImageRefused, opened
from travesia.core.settings import PASS_KEY_FILE
from travesia.protection import pass_service, passes

app = typer.Typer(help="Safe-conduct passes: the public key and the signed revocation list, for verifiers.")


def _key() -> passes.Ed25519PrivateKey:
    return crypto.load_or_create_key(settings().data_dir / PASS_KEY_FILE)


@app.command("public-key")
@handles_errors
def public_key() -> None:
    """Print the public key (PEM) that verifies the passes."""
    console.print(crypto.public_pem(_key().public_key()), end="", highlight=False)


@app.command("revocations")
@handles_errors
def revocations(out: Path = typer.Option(..., "--out", help="Where to write the signed list.")) -> None:
    """Write the signed list of revoked passes (publish it beside the public key)."""
    with unit_of_work() as session:
        document = pass_service.revocation_document(session, _key())
    out.write_text(document + "\n", encoding="ascii")
    console.print(f"wrote {out}")


CANNOT_CHECK = 2  # exit codes: 0 valid, 1 not valid, 2 cannot check (a missing key, an unreadable image, ...)


def _cannot_check(message: str) -> typer.Exit:
    err_console.print(f"CANNOT CHECK: {message}", highlight=False)
    return typer.Exit(CANNOT_CHECK)


def _token_from_image(path: Path) -> str:
    import zxingcpp  # a runtime dependency; imported here so the other commands start without it

    try:
        with opened(path.read_bytes(), ("PNG", "JPEG")) as image:
            found = zxingcpp.read_barcodes(image)
    except (OSError, ImageRefused) as problem:
        raise _cannot_check(f"{path}: {problem}") from None
    if not found:
        raise _cannot_check(f"no QR code found in {path}")
    return found[0].text


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as problem:
        raise _cannot_check(f"{what} {path}: {getattr(problem, 'strerror', None) or problem}") from None


@handles_errors
def verify_pass(
    token: str = typer.Argument("", help="The QR code's text (or give --qr)."),
    qr: Path | None = typer.Option(None, "--qr", help="An image of the pass (PNG/JPEG) to read the QR from."),
    public_key_file: Path = typer.Option(
        ..., "--public-key", help="The authority's public key (PEM), exported with `travesia passes public-key`."
    ),
    revocations_file: Path | None = typer.Option(
        None, "--revocations", help="The signed revocation list (`travesia passes revocations --out FILE`)."
    ),
    today: str | None = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD)."),
) -> None:
    """Verify a safe-conduct pass offline: signature, validity dates and revocation. Needs the authority's public
    key, exported once where the passes are issued: `travesia passes public-key > key.pem`. Exit 0 valid, 1 not
    valid, 2 cannot check (no key, an unreadable image or list, no QR code found)."""
    text = _token_from_image(qr) if qr else token
    if not text:
        raise _cannot_check("give the QR code's text or --qr IMAGE")
    try:
        keys = passes.load_public_keys(_read(public_key_file, "public key"))
        revoked = (
            passes.read_revocations(_read(revocations_file, "revocation list"), keys) if revocations_file else set()
        )
        on = date.fromisoformat(today) if today else date.today()
    except ValueError as problem:
        raise _cannot_check(str(problem)) from None
    verdict = passes.verify(text, keys, revoked, on)
    if verdict.valid:
        p = verdict.payload
        console.print(f"VALID pass {p['n']}: {p['f']} to {p['u']}, destination {p['d']}, holder {p['i']}")
        return
    console.print(f"NOT VALID: {passes.VERDICT_LABELS[verdict.reason]} ({verdict.reason})")
    raise typer.Exit(1)
