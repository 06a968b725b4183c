"""`travesia network detect`: community detection over every link, flags for the analysts' page."""

from __future__ import annotations

import typer

from travesia.core.console import console, handles_errors, operator, unit_of_work
from travesia.network import service

app = typer.Typer(help="Network intelligence: links between persons, flagged communities.")


@app.command("detect")
@handles_errors
def detect() -> None:
    """Find communities (Leiden) over groups, phones, documents, contacts and seizures; flag those worth a look."""
    with unit_of_work() as session:
        out = service.detect(session, operator())
    console.print(
        f"{out.persons} linked persons in {out.communities} communities; {out.flagged} flagged for review "
        f"({out.superseded} earlier open flags replaced)"
    )
