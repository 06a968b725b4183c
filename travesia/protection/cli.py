"""`travesia passes public-key|revocations` and `travesia verify-pass` (offline: files only, no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from travesia.core import crypto
from travesia.core.console import console, handles_errors, settings, unit_of_work
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


def _token_from_image(path: Path) -> str:
    import zxingcpp

    try:
        with opened(path.read_bytes(), ("PNG", "JPEG")) as image:
            found = zxingcpp.read_barcodes(image)
    except (OSError, ImageRefused) as problem:
        raise typer.BadParameter(f"{path}: {problem}", param_hint="--qr") from None
    if not found:
        raise typer.BadParameter(f"no QR code found in {path}", param_hint="--qr")
    return found[0].text


@handles_errors
def verify_pass(
    token: str = typer.Argument("", help="The QR code's text (or give --qr)."),
    qr: Path | None = typer.Option(None, "--qr", help="An image of the pass (PNG/JPEG) to read the QR from."),
    public_key_file: Path = typer.Option(..., "--public-key", help="The authority's public key (PEM)."),
    revocations_file: Path | None = typer.Option(None, "--revocations", help="The signed revocation list."),
    today: str | None = typer.Option(None, "--today", help="Check as of this date (YYYY-MM-DD)."),
) -> None:
    """Verify a safe-conduct pass offline: signature, validity dates and revocation. Exit 1 when not valid."""
    text = _token_from_image(qr) if qr else token
    if not text:
        raise typer.BadParameter("give the QR text or --qr IMAGE", param_hint="token")
    keys = passes.load_public_keys(public_key_file.read_text(encoding="ascii"))
    revoked = passes.read_revocations(revocations_file.read_text(encoding="ascii"), keys) if revocations_file else set()
    verdict = passes.verify(text, keys, revoked, date.fromisoformat(today) if today else date.today())
    if verdict.valid:
        p = verdict.payload
        console.print(f"VALID pass {p['n']}: {p['f']} to {p['u']}, destination {p['d']}, holder {p['i']}")
        return
    console.print(f"NOT VALID: {verdict.reason}")
    raise typer.Exit(1)
