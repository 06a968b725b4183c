"""Bulk import of encounters from CSV or JSON lines: streamed (memory does not grow with the file), validated on the
same path as the API, idempotent by each row's id, each row stored whole or not at all, rejected rows reported
with their line, field and reason.

Many checkers, one writer: the rows' checks and their storage form (``bulk_checks``) run in a process pool; this
process decides what needs the database (idempotency, corrections, groups, numbering) and writes each batch in one
transaction with one statement per table (``core.bulkwrite``: COPY on PostgreSQL) and one audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.bulkwrite import StorageForm, write_stored
from travesia.core.db import Database
from travesia.core.pool import default_processes, ordered_map
from travesia.core.principal import Principal
from travesia.enrolment import repository, service
from travesia.enrolment.bulk_checks import (
    Checked,
    CheckedChunk,
    ImportContext,
    Reject,
    RowIn,
    check_chunk,
    form,
)
from travesia.enrolment.bulk_files import ByteCounter, FileProblem, read_rows
from travesia.models import Document, Encounter, Person, Screening, TravelGroup
from travesia.stations import service as stations

__all__ = ["FileProblem", "Reject", "RowIn"]  # read by the import's callers


@dataclass
class Report:
    read: int = 0
    stored: int = 0
    unchanged: int = 0  # already stored with the same content: a re-run adds nothing
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)  # the caller writes them out and clears this per batch

    def reject(self, item: Reject) -> None:
        self.rejected += 1
        self.rejects.append(item)


def import_context(session: Session, principal: Principal) -> ImportContext:
    """What every row's checks need, read once per import: the stations, the field station's own code."""
    dialect = session.get_bind().dialect
    refs = {s.code.upper(): service.StationRef(s.id, s.code, s.active) for s in stations.list_stations(session)}
    local = repository.local_station_code(session)
    return ImportContext(principal, refs, local, f"{dialect.name}+{dialect.driver}")


def store_batch(session: Session, context: ImportContext, checked: CheckedChunk, report: Report) -> None:
    """Write a batch of checked rows: those already stored with the same content are counted as unchanged, a
    different body under a stored id (or twice in the file) is rejected; the rest go in one statement per table,
    or, if the database refuses it, row by row so one bad row cannot take the others with it. One audit event for
    the batch."""
    fresh = _fresh(session, checked.rows, report)
    if not fresh:
        return
    try:
        with session.begin_nested():
            stored, refused = _write(session, context, checked, fresh)
    except DBAPIError:
        stored, refused = [], []
        for item in fresh:
            try:
                with session.begin_nested():
                    written, problems = _write(session, context, checked, [item])
                stored += written
                refused += problems
            except DBAPIError as error:
                refused.append(Reject(item.line, "row", f"refused by the database ({type(error.orig).__name__})"))
    for problem in refused:
        report.reject(problem)
    report.stored += len(stored)
    if stored:
        audit.record(
            session,
            context.principal,
            "encounter.import",
            record_type="encounter_batch",
            details={
                "count": len(stored),
                "first_line": stored[0].line,
                "last_line": stored[-1].line,
                "first_id": str(stored[0].id),
            },
        )


def _fresh(session: Session, rows: list[Checked], report: Report) -> list[Checked]:
    known = repository.existing_hashes(session, [row.id for row in rows])
    seen: dict[uuid.UUID, str] = {}
    fresh = []
    for row in rows:
        before = known.get(row.id) or seen.get(row.id)
        if before == row.body_hash:
            report.unchanged += 1
        elif before is not None:
            report.reject(Reject(row.line, "id", "another, different registration already has this id"))
        else:
            seen[row.id] = row.body_hash
            fresh.append(row)
    return fresh


def _write(
    session: Session, context: ImportContext, checked: CheckedChunk, items: list[Checked]
) -> tuple[list[Checked], list[Reject]]:
    """Write what ``storage_tables`` decides; returns the items written and those refused."""
    items, refused, tables = storage_tables(session, context, checked, items)
    connection = session.connection()
    for shape, rows in tables:
        write_stored(connection, shape, rows)
    return items, refused


Tables = list[tuple[StorageForm, list[list[Any]]]]


def storage_tables(
    session: Session, context: ImportContext, checked: CheckedChunk, items: list[Checked]
) -> tuple[list[Checked], list[Reject], Tables]:
    """The rows of every table these items write, decided against the database (the person a correction
    continues, groups already stored, a field station's numbering), in the order their foreign keys need. A
    correction of an unknown registration is refused and left out of the items returned."""
    items, refused = _corrections(session, context, checked, items)
    _number(session, context, checked, items)
    return items, refused, _tables(session, context, checked, items)


def _columns(checked: CheckedChunk, model: type) -> tuple[str, ...]:
    return checked.columns[model.__tablename__]  # type: ignore[attr-defined]


def _corrections(
    session: Session, context: ImportContext, checked: CheckedChunk, items: list[Checked]
) -> tuple[list[Checked], list[Reject]]:
    """A correction continues the corrected registration's person (stored, or earlier in this batch)."""
    corrected = {item.corrects for item in items if item.corrects is not None}
    if not corrected:
        return items, []
    person_of = repository.persons_of_encounters(session, corrected)
    shape = form(Encounter, context.dialect, _columns(checked, Encounter))
    at = (shape.index("person_id"), shape.index("registered_person_id"))
    kept, refused = [], []
    for item in items:
        if item.corrects is not None:
            if item.corrects not in person_of:
                refused.append(Reject(item.line, "corrects", "the registration to correct does not exist"))
                continue
            item.person, item.person_id = [], person_of[item.corrects]  # no new person: the corrected one's
            for index in at:
                item.encounter[index] = shape.value("person_id", item.person_id)
        person_of[item.id] = item.person_id
        kept.append(item)
    return kept, refused


def _number(session: Session, context: ImportContext, checked: CheckedChunk, items: list[Checked]) -> None:
    """A field station numbers what it registers (see service.store); central keeps the stations' own numbers."""
    if context.local is None or not items:
        return
    at = form(Encounter, context.dialect, _columns(checked, Encounter)).index("station_seq")
    next_seq: dict[uuid.UUID, int] = {}
    for item in items:
        if item.station_id not in next_seq:
            next_seq[item.station_id] = repository.last_station_seq(session, item.station_id) + 1
        item.encounter[at] = next_seq[item.station_id]
        next_seq[item.station_id] += 1


def _tables(session: Session, context: ImportContext, checked: CheckedChunk, items: list[Checked]) -> Tables:
    """Each table's storage rows, in the order their foreign keys need; a group is written once, if not stored, as
    its first member in the file gives it (as the API would have stored it)."""
    groups: dict[uuid.UUID, list[Any]] = {}
    for item in items:
        if item.group:
            groups.setdefault(*item.group)
    known = repository.known_groups(session, groups)
    tables: list[tuple[type, list[list[Any]]]] = [
        (Person, [item.person for item in items if item.person]),
        (TravelGroup, [row for key, row in groups.items() if key not in known]),
        (Encounter, [item.encounter for item in items]),
        (Document, [doc for item in items for doc in item.documents]),
        (Screening, [item.screening for item in items]),
    ]
    return [(form(model, context.dialect, _columns(checked, model)), rows) for model, rows in tables if rows]


POOL_FROM_BYTES = 4 * 1024 * 1024  # a smaller file is checked inline: starting processes costs more than it saves
CHECK_CHUNK = 500  # rows a process checks at a time: small, so that the writer starts early and never waits long


def run_import(
    db: Database,
    principal: Principal,
    source: Path,
    *,
    batch_size: int = 2000,
    processes: int | None = None,
    on_reject: Callable[[Reject], None] = lambda _: None,
    on_progress: Callable[[int, int], None] = lambda _bytes, _rows: None,
) -> tuple[Report, str]:
    """Import a file batch by batch, one transaction per batch (this is the job wrapper that commits): the rows'
    checks run in ``processes`` processes (by default one per core for a large file, inline for a small one) while
    this process writes. Returns the report and the file's SHA-256."""
    report = Report()
    counters: list[ByteCounter] = []
    with db.transaction(readonly=True) as session:
        context = import_context(session, principal)  # per import, not per row
    if processes is None:
        processes = default_processes() if source.stat().st_size >= POOL_FROM_BYTES else 1
    size = min(CHECK_CHUNK, batch_size)
    chunks = _batches(read_rows(source, counters), size)
    # Two write batches checked ahead: the processes go on checking while this one writes a batch.
    ahead = max(2 * processes, 2 * -(-batch_size // size))
    checked = ordered_map(partial(check_chunk, context), chunks, processes=processes, ahead=ahead)
    for batch in _joined(checked, batch_size):
        report.read += batch.read
        for problem in batch.rejects:
            report.reject(problem)
        with db.transaction() as session:
            store_batch(session, context, batch, report)
        for item in sorted(report.rejects, key=lambda r: r.line):
            on_reject(item)
        report.rejects.clear()
        on_progress(counters[0].count if counters else 0, report.read)
    return report, counters[0].sha.hexdigest() if counters else ""


def _joined(chunks: Iterable[CheckedChunk], size: int) -> Iterator[CheckedChunk]:
    """Checked chunks joined into write batches of about ``size`` rows (one transaction each)."""
    batch = CheckedChunk()
    for chunk in chunks:
        batch.rows += chunk.rows
        batch.rejects += chunk.rejects
        batch.read += chunk.read
        batch.columns |= chunk.columns
        if batch.read >= size:
            yield batch
            batch = CheckedChunk()
    if batch.read:
        yield batch


def _batches(rows: Iterable[RowIn], size: int) -> Iterator[list[RowIn]]:
    batch: list[RowIn] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
