"""`travesia watchlist ...` (create lists, import versions, list them) and `travesia screen` (ask every list about
a name, with the explanation)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from travesia.core.console import console, database, fail, handles_errors, operator
from travesia.screening import formats, jobs, listing, matching, repository, service
from travesia.screening.listformats import csvmap
from travesia.screening.schemas import WatchlistIn

app = typer.Typer(help="Watchlists: create, import versions (FollowTheMoney JSON lines or CSV), list.")


@app.command("create")
@handles_errors
def create(
    name: str,
    title: str = typer.Option(..., help="What the list is."),
    owner: str = typer.Option(..., help="Who owns and answers for the list."),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The law or agreement under which it is used."),
    kind: str = typer.Option("persons", help="persons or documents (lost or stolen)."),
    sensitivity: str = typer.Option("restricted", help="internal, restricted or secret."),
    threshold: float = typer.Option(0.7, help="Score (probability) over which a candidate is an alert."),
) -> None:
    """Create a list."""
    data = WatchlistIn(
        name=name,
        title=title,
        owner=owner,
        legal_basis=legal_basis,
        kind=kind,  # type: ignore[arg-type]
        sensitivity=sensitivity,  # type: ignore[arg-type]
        threshold=threshold,
    )
    db = database()
    with db.transaction() as session:
        listing.create_list(session, operator(), data)
    console.print(f"list {name} created")


@app.command("import")
@handles_errors
def import_(
    file: Path,
    list_name: str = typer.Option(..., "--list", help="The list's name."),
    mapping: list[str] = typer.Option(None, "--map", help="For CSV: property=Column header (repeat)."),
    mode: str = typer.Option(
        None,
        help="full (entries not in the file are removed) or delta; default: full, or "
        "delta for OpenSanctions ADD/MOD/DEL lines.",
    ),
    source: str = typer.Option(None, help="Where the entries come from (default: the file name)."),
    format_name: str = typer.Option(
        None, "--format", help="ftm or csv; default: recognised from the file's content, whatever its name."
    ),
    rescreen: bool = typer.Option(True, help="Re-screen everyone enrolled against what changed, now."),
) -> None:
    """Import a version of a list: checked whole first (any problem refuses the file, with line and field)."""
    try:
        parsed_mapping = csvmap.parse_mapping(mapping) if mapping else None
        handle = file.open("r", encoding="utf-8", newline="")
    except formats.ListFileError as error:
        fail(str(error), code=2)
        return
    except OSError as error:
        fail(f"{file}: {error.strerror}")
        return
    db = database()
    with handle, db.transaction() as session:
        report = listing.import_list(
            session,
            operator(),
            list_name,
            handle,
            file_name=file.name,
            format_name=format_name,
            mapping=parsed_mapping,
            source=source,
            mode=mode,
        )
    console.print(
        f"{list_name} version {report.version} ({report.mode}): {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.unchanged} unchanged"
    )
    if rescreen:
        raised = jobs.rescreen_version(db, service.Screener(), report.version_id)
        console.print(f"re-screened everyone enrolled: {raised} new alerts")


@app.command("list")
@handles_errors
def list_() -> None:
    """The lists with their current version."""
    db = database()
    with db.transaction(readonly=True) as session:
        for wl in repository.watchlists(session):
            console.print(
                f"{wl.name}\t{wl.kind}\tv{wl.version}\t{wl.sensitivity}\tthreshold {wl.threshold}\t{wl.owner}"
            )


@app.command("changes")
@handles_errors
def changes(
    list_name: str = typer.Argument(..., help="The list."),
    number: int = typer.Argument(..., help="The version number, as the import reported it."),
) -> None:
    """What one version did, entry by entry: added, changed, removed, or listed again after a removal."""
    db = database()
    after = ""
    with db.transaction(readonly=True) as session:
        while page := listing.version_changes(session, list_name, number, after=after, limit=5000):
            for row in page:
                console.print(f"{row['change']}\t{row['external_id']}\t{row['caption']}", markup=False)
            after = page[-1]["external_id"]


@handles_errors
def screen(
    name: str = typer.Option(..., help="Full name, in any script."),
    birth_date: str = typer.Option(None, "--birth-date", help="YYYY, YYYY-MM or YYYY-MM-DD."),
    nationality: str = typer.Option(None, help="ISO country code (alpha-2 or alpha-3)."),
    list_name: str = typer.Option(None, "--list", help="One list (default: every persons list)."),
    limit: int = typer.Option(5, min=1, max=50),
    algorithm: str = typer.Option("travesia", help="travesia or logic-v2 (nomenklatura's, on the same candidates)."),
) -> None:
    """Screen a name against the lists: the best candidates with their score and explanation (audited)."""
    properties: dict[str, list[str] | str] = {"name": [name]}
    if birth_date:
        properties["birthDate"] = [birth_date]
    if nationality:
        properties["nationality"] = [nationality.lower() if len(nationality) == 2 else nationality]
    db = database()
    screener = service.Screener()
    with db.transaction() as session:
        lists = [list_name] if list_name else [wl.name for wl in repository.watchlists(session, "persons")]
        if not lists:
            fail("no persons list yet: travesia watchlist create, then import")
        out = {
            name_: matching.match(
                session, screener, operator(), name_, {"q": properties}, limit=limit, algorithm=algorithm
            )["responses"]["q"]["results"]  # type: ignore[index]
            for name_ in lists
        }
    console.print_json(json.dumps(out, ensure_ascii=False, default=str))
