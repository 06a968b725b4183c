"""`travesia pathways load FILE.json|list`: legal pathways and their eligibility rules, kept as data."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import TypeAdapter, ValidationError

from travesia.core.console import console, fail, handles_errors, operator, unit_of_work
from travesia.programmes import pathway_service, pathways, repository

app = typer.Typer(help="Legal pathways (Safe Mobility, labour mobility): eligibility rules as data.")


@app.command("load")
@handles_errors
def load(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A JSON list of programmes.")) -> None:
    """Load or update programmes from a rules file (checked whole: nothing is loaded if any entry is wrong)."""
    try:
        items = TypeAdapter(list[pathways.ProgrammeIn]).validate_json(path.read_bytes())
    except ValidationError as error:
        problems = "; ".join(f"entry {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        fail(f"{path}: {problems}")
        return
    with unit_of_work() as session:
        count = pathway_service.load(session, operator(), items)
    console.print(f"{count} pathways loaded from {path}")


@app.command("list")
@handles_errors
def list_programmes() -> None:
    with unit_of_work() as session:
        for p in repository.programmes(session, active_only=False):
            console.print(f"{p.code}: {p.name} ({p.partner}) — rules {json.dumps(p.rules)} — exports {p.export_fields}")
