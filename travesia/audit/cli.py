"""`travesia audit verify` and `travesia audit anchor`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from travesia.audit import service
from travesia.core.console import console, err_console, fail, handles_errors, operator, unit_of_work

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
@handles_errors
def verify(
    anchor: Path = typer.Option(None, "--anchor", help="An anchor file from `travesia audit anchor` to check against."),
) -> None:
    """Check every event's hash and link; name the first bad event. Exit 1 if the chain is broken."""
    expected = None
    if anchor is not None:
        try:
            data = json.loads(anchor.read_text())
            expected = (int(data["seq"]), str(data["hash"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"{anchor}: not an anchor file ({error})")
    with unit_of_work() as session:
        verdict = service.verify_and_record(session, operator(), expected)
    if verdict.ok:
        console.print(f"audit chain OK: {verdict.checked} events, head {verdict.head_seq} {verdict.head_hash}")
        return
    err_console.print(
        f"[bold red]audit chain BROKEN[/] at event {verdict.bad_seq}"
        + (f" (id {verdict.bad_event_id})" if verdict.bad_event_id else "")
        + f": {verdict.problem}; {verdict.checked} events verified before it"
    )
    raise typer.Exit(1)


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
