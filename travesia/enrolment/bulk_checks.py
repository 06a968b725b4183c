"""The pure half of bulk import: each row checked on the enrolment path (Pydantic, the station, MRZ check digits and
names, capture rules, the body hash) and turned into storage-form rows of the tables it writes, with no database —
so that it runs in a process pool while one writer only writes (``bulk``). What needs the database (idempotency,
corrections, groups already known, a field station's numbering) is left to the writer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from travesia.core.bulkwrite import StorageForm, dialect_named
from travesia.core.db import new_id, utcnow
from travesia.core.errors import DomainError
from travesia.core.i18n import gettext_for
from travesia.core.principal import Principal
from travesia.enrolment import service
from travesia.enrolment.schemas import EncounterIn
from travesia.models import Document, Encounter, Person, Screening, TravelGroup

_english = gettext_for("en")
SCREENING_PENDING = {"status": "pending", "attempts": 0, "candidates": 0}


@dataclass(frozen=True)
class Reject:
    line: int
    field: str
    reason: str


@dataclass
class RowIn:
    line: int
    payload: dict[str, Any] | None
    problem: Reject | None = None
    text: str | None = None  # a JSON line, parsed with the checks (in their process)


def parsed(row: RowIn) -> RowIn:
    """A JSON line's object, or the reason it is not one."""
    if row.text is None:
        return row
    try:
        value = json.loads(row.text)
    except json.JSONDecodeError as error:
        return RowIn(row.line, None, Reject(row.line, "row", f"not JSON: {error.msg} at column {error.colno}"))
    if not isinstance(value, dict):
        return RowIn(row.line, None, Reject(row.line, "row", "each line must be one JSON object"))
    return RowIn(row.line, value)


@dataclass(frozen=True)
class ImportContext:
    """What every row's checks need that stays the same for a whole import: read once, sent to each process."""

    principal: Principal
    stations: dict[str, service.StationRef]  # every station by its code in upper case
    local: str | None  # the field station's own code (None at central)
    dialect: str  # the database's dialect name, for the storage form of values ("sqlite", "postgresql+psycopg")

    def station(self, code: str) -> service.StationRef | None:
        return self.stations.get(code.strip().upper())


@dataclass
class Checked:
    """A row that passed every check, in storage form; the writer patches what it decides (the person of a
    correction, a field station's number)."""

    line: int
    id: uuid.UUID
    body_hash: str
    station_id: uuid.UUID
    corrects: uuid.UUID | None
    person_id: uuid.UUID
    group: tuple[uuid.UUID, list[Any]] | None  # the group's id and its row, written if not yet stored
    person: list[Any]
    encounter: list[Any]
    documents: list[list[Any]]
    screening: list[Any]  # the screening step's outbox row, pending

    # Sent between processes with UUIDs as bytes: pickling UUID objects cost 30 µs a row, more than the write.
    def __getstate__(self) -> tuple[Any, ...]:
        group = (self.group[0].bytes, self.group[1]) if self.group else None
        head = (self.line, self.id.bytes, self.body_hash, self.station_id.bytes, _bytes(self.corrects))
        return (*head, self.person_id.bytes, group, self.person, self.encounter, self.documents, self.screening)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        line, key, digest, station, corrects, person_id, group, person, encounter, documents, screening = state
        self.line, self.id, self.body_hash, self.station_id = (
            line,
            uuid.UUID(bytes=key),
            digest,
            uuid.UUID(bytes=station),
        )
        self.corrects = uuid.UUID(bytes=corrects) if corrects else None
        self.person_id = uuid.UUID(bytes=person_id)
        self.group = (uuid.UUID(bytes=group[0]), group[1]) if group else None
        self.person, self.encounter, self.documents, self.screening = person, encounter, documents, screening


def _bytes(value: uuid.UUID | None) -> bytes | None:
    return value.bytes if value is not None else None


@dataclass
class CheckedChunk:
    rows: list[Checked] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table → the columns of its storage rows


_forms: dict[tuple[type, str, tuple[str, ...]], StorageForm] = {}


def form(model: type, dialect: str, keys: Iterable[str]) -> StorageForm:
    """The storage form of a model's rows given with these keys (kept per process: it is asked once a row)."""
    key = (model, dialect, tuple(keys))
    found = _forms.get(key)
    if found is None:
        found = _forms[key] = StorageForm.of(model.__table__, dialect_named(dialect), key[2])  # type: ignore[attr-defined]
    return found


def stored(model: type, dialect: str, values: dict[str, Any], columns: dict[str, tuple[str, ...]]) -> list[Any]:
    """A row in storage form; ``columns`` notes its table's columns for the writer."""
    shape = form(model, dialect, values.keys())
    columns[shape.table.name] = shape.columns
    return shape.row(values)


def check_chunk(context: ImportContext, rows: Iterable[RowIn]) -> CheckedChunk:
    out = CheckedChunk()
    now = utcnow()
    for row in rows:
        out.read += 1
        if row.problem:
            out.rejects.append(row.problem)
            continue
        try:
            out.rows.append(_checked(context, row, now, out.columns))
        except ValidationError as error:
            out.rejects.append(_reject(row, error))
        except _LineProblem as problem:
            out.rejects.append(problem.reject)
        except DomainError as error:
            out.rejects.append(Reject(row.line, error.field or "row", _english(error.message, **error.params)))
    return out


def _encounter_in(row: RowIn) -> EncounterIn:
    """A JSON line is parsed and validated in one pass by Pydantic's own parser (a third faster than json.loads
    then validation, measured); a CSV row comes as a mapping."""
    if row.text is None:
        return EncounterIn.model_validate(row.payload)
    try:
        return EncounterIn.model_validate_json(row.text)
    except ValidationError as error:
        if error.errors()[0]["loc"]:  # a field's problem: reported as such
            raise
    # Not an object at all: say why in the words the import always used.
    row = parsed(row)
    if row.problem:
        raise _LineProblem(row.problem)
    return EncounterIn.model_validate(row.payload)


class _LineProblem(Exception):
    def __init__(self, problem: Reject) -> None:
        super().__init__(problem.reason)
        self.reject = problem


def _reject(row: RowIn, error: ValidationError) -> Reject:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    return Reject(row.line, where, first["msg"])


def _checked(context: ImportContext, row: RowIn, now: Any, columns: dict[str, tuple[str, ...]]) -> Checked:
    data = _encounter_in(row)
    captured = service.Captured(data=data, principal=context.principal, source="import")
    code = service.station_code(captured)
    validated = service.validate_at(captured, code, context.station(code), context.local)
    person_id = new_id()
    group = None
    if data.group:
        values = {"id": data.group.id, "kind": data.group.kind, "station_id": validated.station.id, "created_at": now}
        group = (data.group.id, stored(TravelGroup, context.dialect, values, columns))
    encounter = service.encounter_values(validated, person_id=person_id, group_id=group[0] if group else None, now=now)
    return Checked(
        line=row.line,
        id=data.id,
        body_hash=validated.body_hash,
        station_id=validated.station.id,
        corrects=data.corrects,
        person_id=person_id,
        group=group,
        person=stored(Person, context.dialect, {"id": person_id, "created_at": now}, columns),
        encounter=stored(Encounter, context.dialect, encounter, columns),
        documents=[stored(Document, context.dialect, v, columns) for v in service.document_values(validated)],
        screening=stored(Screening, context.dialect, {**SCREENING_PENDING, "encounter_id": data.id}, columns),
    )
