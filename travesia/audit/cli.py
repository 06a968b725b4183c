"""`travesia audit verify|sign|prove|public-key|anchor`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from travesia.audit import heads, merkle, service
from travesia.audit.service import TrustedHeads
from travesia.core import crypto
from travesia.core.console import console, err_console, fail, handles_errors, operator, settings, unit_of_work

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


def trusted_heads(heads: Path | None, public_key: Path | None) -> TrustedHeads | None:
    """The heads file and key to check against: an auditor's own copies, or this installation's."""
    cfg = settings()
    path = heads or cfg.audit_heads_path
    if public_key is not None:
        try:
            key = serialization.load_pem_public_key(public_key.read_bytes())
        except (OSError, ValueError) as error:
            fail(f"{public_key}: not a PEM public key ({type(error).__name__})")
        if not isinstance(key, Ed25519PublicKey):
            fail(f"{public_key}: not an Ed25519 public key")
        return TrustedHeads(path, key)  # type: ignore[arg-type]
    if not cfg.audit_key_path.exists():
        return None  # nothing was ever signed here
    return TrustedHeads(path, crypto.load_or_create_key(cfg.audit_key_path).public_key())


@app.command("verify")
@handles_errors
def verify(
    anchor: Path = typer.Option(None, "--anchor", help="An anchor file from `travesia audit anchor` to check against."),
    heads_file: Path = typer.Option(None, "--heads", help="A file of signed tree heads (default: ours)."),
    public_key: Path = typer.Option(None, "--public-key", help="The audit key's public PEM (an auditor's copy)."),
) -> None:
    """Check every event's hash and link, and the tree root at every signed head; name the first problem.
    Exit 1 if the trail is broken."""
    expected = None
    if anchor is not None:
        try:
            data = json.loads(anchor.read_text())
            expected = (int(data["seq"]), str(data["hash"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"{anchor}: not an anchor file ({error})")
    trusted = trusted_heads(heads_file, public_key)
    with unit_of_work() as session:
        verdict = service.verify_and_record(session, operator(), expected, trusted)
    if verdict.ok:
        signed = (
            f"; consistent with {verdict.heads_checked} signed heads, the latest covering {verdict.signed_size} "
            f"events (signed {verdict.signed_at})"
            if verdict.signed_size is not None
            else "; no signed tree head yet: run `travesia audit sign`"
        )
        message = f"audit chain OK: {verdict.checked} events, head {verdict.head_seq} {verdict.head_hash}{signed}"
        console.print(message, soft_wrap=True, highlight=False)
        return
    err_console.print(
        f"[bold red]audit chain BROKEN[/] at event {verdict.bad_seq}"
        + (f" (id {verdict.bad_event_id})" if verdict.bad_event_id else "")
        + f": {verdict.problem}; {verdict.checked} events verified before it",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@app.command("sign")
@handles_errors
def sign() -> None:
    """Sign a tree head now (size, root, time) and append it to the file of signed heads."""
    cfg = settings()
    key = crypto.load_or_create_key(cfg.audit_key_path)
    with unit_of_work() as session:
        head = service.sign_and_record(session, operator(), key, cfg.audit_heads_path)
    console.print(
        f"signed tree head: {head.size} events, root {head.root}, written to {cfg.audit_heads_path}", soft_wrap=True
    )


@app.command("public-key")
@handles_errors
def public_key() -> None:
    """Print the audit key's public half (PEM), for auditors and partners who check signed heads."""
    cfg = settings()
    typer.echo(crypto.public_pem(crypto.load_or_create_key(cfg.audit_key_path).public_key()), nl=False)


@app.command("prove-inclusion")
@handles_errors
def prove_inclusion(
    seq: int = typer.Argument(..., min=1, help="The event's sequence number."),
    size: int = typer.Option(None, "--size", min=1, help="Tree size (default: the latest signed head's)."),
) -> None:
    """Print the O(log n) proof that an event is in the tree, checked here before it is printed."""
    with unit_of_work() as session:
        size = size or _latest_signed_size() or service.tree_size(session)
        if not 1 <= seq <= size <= service.tree_size(session):
            fail(f"event {seq} is not in a tree of {size} events (the trail has {service.tree_size(session)})")
        proof = service.inclusion_proof(session, seq, size)
    ok = merkle.verify_inclusion(
        seq - 1, size, bytes.fromhex(proof.leaf), [bytes.fromhex(p) for p in proof.proof], bytes.fromhex(proof.root)
    )
    console.print_json(proof.model_dump_json())
    if not ok:
        fail("the proof does not lead to the root: the stored tree nodes are damaged")


@app.command("prove-consistency")
@handles_errors
def prove_consistency(
    first: int = typer.Argument(..., min=1, help="The earlier tree size."),
    second: int = typer.Argument(None, min=1, help="The later tree size (default: the current trail)."),
) -> None:
    """Print the O(log n) proof that the later tree extends the earlier one, checked here before it is printed."""
    with unit_of_work() as session:
        second = second or service.tree_size(session)
        if not first <= second <= service.tree_size(session):
            fail(f"sizes must satisfy {first} <= second <= {service.tree_size(session)}")
        proof = service.consistency_proof(session, first, second)
    ok = merkle.verify_consistency(
        first,
        second,
        bytes.fromhex(proof.first_root),
        bytes.fromhex(proof.second_root),
        [bytes.fromhex(p) for p in proof.proof],
    )
    console.print_json(proof.model_dump_json())
    if not ok:
        fail("the proof does not check: the stored tree nodes are damaged")


def _latest_signed_size() -> int | None:
    try:
        head = heads.latest(settings().audit_heads_path)
    except heads.HeadFileProblem as problem:
        fail(f"the file of signed heads is damaged: {problem}")
    return head.size if head else None


@app.command("anchor")
@handles_errors
def anchor(
    out: Path = typer.Option(None, "--out", help="Write the anchor here instead of printing it."),
) -> None:
    """Export the chain head (sequence number and hash) for the auditor to keep elsewhere."""
    with unit_of_work() as session:
        head = service.anchor(session)
    text = head.model_dump_json(indent=2)
    if out is None:
        console.print_json(text)
    else:
        out.write_text(text + "\n")
        console.print(f"anchor written to {out}: event {head.seq}")
