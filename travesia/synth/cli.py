"""`travesia synth`: write a synthetic population for demos, training, tests and benchmarks."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

from travesia.core.console import console
from travesia.synth.population import write
from travesia.synth.stations import write_stations


def synth(
    people: int = typer.Option(1000, "--people", min=1, max=20_000_000, help="How many people (not encounters)."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same population."),
    out: Path = typer.Option(Path("synthetic"), "--out", help="Folder for encounters.jsonl and ground_truth.csv."),
    ends: str = typer.Option(
        None, "--ends", help="YYYY-MM-DD or 'today': the 2021-2024 flow moved to end a week before that day."
    ),
) -> None:
    """Generate a Darién-like flow with ground truth (deterministic for a seed)."""
    started = time.perf_counter()
    try:
        last = None if ends is None else date.today() if ends == "today" else date.fromisoformat(ends)
    except ValueError:
        raise typer.BadParameter(f"{ends!r}: write YYYY-MM-DD or today", param_hint="--ends") from None
    persons, encounters = write(out, people, seed, last)
    stations = write_stations(out)
    console.print(
        f"{persons} people, {encounters} encounters in {time.perf_counter() - started:.1f}s → "
        f"{out / 'encounters.jsonl'}, {out / 'ground_truth.csv'}, {stations}\n"
        f"On a new database, add the stations first: `travesia stations import {stations}`, then "
        f"`travesia import encounters {out / 'encounters.jsonl'}`.",
        soft_wrap=True,  # commands to copy, never broken across lines
    )
