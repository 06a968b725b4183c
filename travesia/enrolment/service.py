"""Enrolment use cases. The enrolment itself is a list of plain steps — capture → validate → store — each taking the
previous step's output, so the page, the API, bulk import and re-processing share one path; later steps
(biometric extraction, screening, identity resolution) are appended to ``STEPS`` or enqueued after ``store``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from travesia.audit import service as audit
from travesia.core.db import new_id, utcnow
from travesia.core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.enrolment import mrz, repository, rules, slaps
from travesia.enrolment.images import CleanImage
from travesia.enrolment.schemas import (
    EncounterIn,
)
from travesia.models import BiometricSample, Document, Encounter, Person, Screening, TravelGroup
from travesia.stations import service as stations


class MrzInvalid(InvalidInput):
    """A document's zone does not hold: each of its problems translated where it is shown."""

    def __init__(self, problem: rules.DocumentProblem) -> None:
        super().__init__(str(problem), field=problem.field)
        self.problems = problem.problems

    def translated(self, translate: Callable[..., str]) -> str:
        return mrz.described(self.problems, translate)


@dataclass
class Captured:
    """What arrived: the validated schema, who sent it, by which path, and its images (already cleaned)."""

    data: EncounterIn
    principal: Principal
    source: str  # web, api, import, sync
    photo: CleanImage | None = None
    fingerprints: dict[int, CleanImage] = field(default_factory=dict)  # by position; 13-15 slaps, split at validation
    station_seq: int | None = None  # the station's own number for it, when central stores a synced batch


def has_images(captured: Captured) -> bool:
    return captured.photo is not None or bool(captured.fingerprints)


@dataclass(frozen=True)
class StationRef:
    """What enrolment needs of a station: plain values, so that checks can run in other processes."""

    id: uuid.UUID
    code: str
    active: bool


@dataclass
class Validated:
    captured: Captured
    station: StationRef
    documents: list[rules.CheckedDocument]
    body_hash: str
    birth: tuple[int, int | None, int | None, str]
    consent: str | None = None
    exemptions: list[dict[str, object]] = field(default_factory=list)
    station_seq: int | None = None  # set in ``store``, inside the write transaction
    local_station: str | None = None  # the field station's own code (None at central), read once by ``validate``


@dataclass
class Stored:
    encounter: Encounter
    replayed: bool
    station_code: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class Lookups:
    """What validation reads from the database that stays the same for a whole import (or request): the stations
    by code and the field station's own code. Looked up once, not once per row."""

    stations: dict[str, StationRef | None] = field(default_factory=dict)
    local: str | None = None
    local_known: bool = False

    def station(self, session: Session, code: str) -> StationRef | None:
        if code not in self.stations:
            found = stations.station_by_code(session, code)
            self.stations[code] = StationRef(found.id, found.code, found.active) if found else None
        return self.stations[code]

    def local_station(self, session: Session) -> str | None:
        if not self.local_known:
            self.local, self.local_known = repository.local_station_code(session), True
        return self.local


def checked_documents(data: EncounterIn) -> list[rules.CheckedDocument]:
    """Each document against its zone and the person's own details (no database): InvalidInput names the first
    problem's field."""
    year, month, day, _ = data.birth_parts()
    documents = []
    for index, doc in enumerate(data.documents):
        try:
            documents.append(
                rules.check_document(
                    index,
                    doc,
                    given_names=data.given_names,
                    surnames=data.surnames,
                    sex=data.sex,
                    birth=(year, month, day),
                    nationality=data.nationality,
                )
            )
        except rules.DocumentProblem as problem:
            raise MrzInvalid(problem) from None
    return documents


def station_code(captured: Captured) -> str:
    code = captured.data.station or captured.principal.station_code
    if not code:
        raise InvalidInput(N_("Choose the station where the person is registered."), field="station")
    return code


def validate(session: Session, captured: Captured, lookups: Lookups | None = None) -> Validated:
    lookups = lookups or Lookups()
    code = station_code(captured)
    return validate_at(captured, code, lookups.station(session, code), lookups.local_station(session))


def validate_at(captured: Captured, code: str, station: StationRef | None, local: str | None) -> Validated:
    """Every check of a registration once its station and the field station's own code are known: no database, so
    that bulk import can run it in other processes."""
    data, principal = captured.data, captured.principal
    if station is None or not station.active:
        raise InvalidInput(N_("Unknown station code: %(code)s"), field="station", code=code)
    if principal.via not in ("cli", "system") and station.id not in principal.station_ids:
        raise Forbidden(N_("You are not assigned to that station."), field="station")
    if local is not None and local != station.code:
        raise InvalidInput(N_("This field station registers people at %(code)s only."), field="station", code=local)
    year, month, day, precision = data.birth_parts()
    documents = checked_documents(data)
    age = rules.age_on(year, month, day, (data.occurred_at or utcnow()).date())
    sent = captured.fingerprints
    try:
        given = getattr(data.biometrics, "exemptions", None) or []
        captured = replace(captured, fingerprints=slaps.expanded(sent, slaps.exempt_positions(given)))
        consent, exemptions = rules.capture_record(
            age, data.biometrics, captured.photo is not None, captured.fingerprints
        )
    except rules.CaptureProblem as problem:
        raise InvalidInput(problem.message, field=slaps.sent_as(problem.field, sent), **problem.params) from None
    images = [img.data for img in ([captured.photo] if captured.photo else [])]
    images += [captured.fingerprints[k].data for k in sorted(captured.fingerprints)]
    digest = rules.body_hash(data.model_dump(mode="json"), images)
    birth = (year, month, day, precision)
    return Validated(captured, station, documents, digest, birth, consent, exemptions, local_station=local)


def store(session: Session, validated: Validated) -> Stored:
    """Write the encounter with its documents, group link and images, and its audit event, in the caller's
    transaction. A retry of the same submission returns the stored encounter; a different body under the same
    id is a conflict."""
    data, principal = validated.captured.data, validated.captured.principal
    existing = repository.existing_hashes(session, [data.id])
    if data.id in existing:
        if existing[data.id] != validated.body_hash:
            raise Conflict(N_("Another, different registration already has this id."), field="id")
        stored = repository.encounter(session, data.id)
        assert stored is not None
        return Stored(stored, replayed=True, station_code=validated.station.code)
    person_id = _person_for(session, data)
    group_id = _group_for(session, data, validated.station)
    now = utcnow()
    validated.station_seq = validated.captured.station_seq
    if validated.station_seq is None and validated.local_station is not None:
        # A field station numbers what it registers; writers are serialised, so max + 1 is never taken twice.
        validated.station_seq = repository.last_station_seq(session, validated.station.id) + 1
    encounter = Encounter(**encounter_values(validated, person_id=person_id, group_id=group_id, now=now))
    rows: list[object] = [Document(**values) for values in document_values(validated)]
    rows.extend(_samples(data.id, validated.captured.photo, validated.captured.fingerprints))
    # The outbox row of the screening step, in the same transaction: an enrolment is never left unscreened.
    rows.append(Screening(encounter_id=data.id))
    try:
        # SQLite writers are serialised (BEGIN IMMEDIATE), so no concurrent insert of the same id can happen there;
        # on PostgreSQL a savepoint lets us answer a concurrent duplicate as a replay instead of an error.
        with session.begin_nested() if session.get_bind().dialect.name != "sqlite" else nullcontext():
            repository.add(session, encounter)
            session.flush()  # the parent row first: documents and samples reference it
            repository.add(session, *rows)
            session.flush()
    except IntegrityError:
        # The same id committed by a concurrent request between our check and our insert (PostgreSQL).
        if data.id in repository.existing_hashes(session, [data.id]):
            return store(session, validated)
        raise
    audit.record(
        session,
        principal,
        "encounter.create",
        record_type="encounter",
        record_id=data.id,
        details={
            "source": validated.captured.source,
            "station": validated.station.code,
            "documents": len(validated.documents),
            "images": sum(isinstance(row, BiometricSample) for row in rows),
        },
    )
    warnings = [f"documents.{i}.{name}" for i, doc in enumerate(validated.documents) for name in doc.mismatches]
    set_committed_value(encounter, "documents", [row for row in rows if isinstance(row, Document)])
    return Stored(encounter, replayed=False, station_code=validated.station.code, warnings=warnings)


def encounter_values(
    validated: Validated, *, person_id: uuid.UUID, group_id: uuid.UUID | None, now: datetime
) -> dict[str, object]:
    """The encounter's columns: one mapping for the ORM path (API, page) and the executemany path (bulk import)."""
    data = validated.captured.data
    year, month, day, precision = validated.birth
    return {
        "id": data.id,
        "body_hash": validated.body_hash,
        "station_id": validated.station.id,
        "officer_id": validated.captured.principal.user_id,
        "person_id": person_id,
        "registered_person_id": person_id,
        "group_id": group_id,
        "relation": data.group.relation if data.group else None,
        "corrects_id": data.corrects,
        "occurred_at": data.occurred_at or now,
        "recorded_at": now,
        "source": validated.captured.source,
        "station_seq": validated.station_seq,
        "given_names": data.given_names,
        "surnames": data.surnames,
        "name_key": rules.name_key(data.given_names, data.surnames),
        "sex": data.sex,
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "birth_precision": precision,
        "birth_estimated": data.birth_estimated,
        "nationality": data.nationality,
        "country_of_birth": data.country_of_birth,
        "languages": data.languages,
        "route_countries": data.route_countries,
        "phone": data.phone,
        "email": data.email,
        "notes": data.notes,
        "biometric_consent": validated.consent,
        "biometric_exemptions": validated.exemptions,
    }


def document_values(validated: Validated) -> list[dict[str, object]]:
    return [
        {
            "id": new_id(),
            "encounter_id": validated.captured.data.id,
            "position": position,
            "doc_type": doc.doc_type,
            "number": doc.number,
            "issuing_state": doc.issuing_state,
            "expiry_date": doc.expiry_date,
            "mrz_text": doc.mrz_text,
            "mrz_format": doc.mrz_format,
            "mrz_mismatches": doc.mismatches,
        }
        for position, doc in enumerate(validated.documents)
    ]


def _person_for(session: Session, data: EncounterIn) -> uuid.UUID:
    if data.corrects is not None:
        corrected = repository.encounter(session, data.corrects)
        if corrected is None:
            raise InvalidInput(N_("The registration to correct does not exist."), field="corrects")
        return corrected.person_id
    person = Person()
    repository.add(session, person)
    session.flush()
    return person.id


def _group_for(session: Session, data: EncounterIn, station: StationRef) -> uuid.UUID | None:
    if data.group is None:
        return None
    group = repository.group(session, data.group.id)
    if group is None:
        group = TravelGroup(id=data.group.id, kind=data.group.kind, station_id=station.id)
        repository.add(session, group)
        session.flush()
    return group.id


def _samples(
    encounter_id: uuid.UUID, photo: CleanImage | None, fingerprints: dict[int, CleanImage]
) -> list[BiometricSample]:
    now = utcnow()
    samples = []
    if photo:
        samples.append(_sample(encounter_id, "face", None, photo, now))
    for position, image in sorted(fingerprints.items()):
        samples.append(_sample(encounter_id, "finger", position, image, now))
    return samples


def _sample(encounter_id: uuid.UUID, modality: str, position: int | None, image: CleanImage, at: datetime) -> object:
    return BiometricSample(
        encounter_id=encounter_id,
        modality=modality,
        finger_position=position,
        image_format=image.format,
        width=image.width,
        height=image.height,
        image=image.data,
        captured_at=at,
    )


def add_samples(
    session: Session,
    principal: Principal,
    encounter_id: uuid.UUID,
    photo: CleanImage | None = None,
    fingerprints: dict[int, CleanImage] | None = None,
    source: str = "scanner",
) -> list[BiometricSample]:
    """Images captured after the registration was saved (a scanner at another desk), checked against the consent
    and exemptions recorded with it. A biometric already captured is not replaced: a new registration (a
    correction) carries a retake."""
    fingerprints = fingerprints or {}
    encounter = repository.encounter(session, encounter_id, principal)
    if encounter is None:
        raise NotFound(N_("No such registration."), field="encounter_id")
    age = rules.age_on(encounter.birth_year, encounter.birth_month, encounter.birth_day, encounter.occurred_at.date())
    sent = fingerprints
    try:
        fingerprints = slaps.expanded(sent, slaps.exempt_positions(encounter.biometric_exemptions or []))
        rules.check_images(
            encounter.biometric_consent, encounter.biometric_exemptions, age, photo is not None, fingerprints
        )
    except rules.CaptureProblem as problem:
        raise InvalidInput(problem.message, field=slaps.sent_as(problem.field, sent), **problem.params) from None
    taken = repository.captured_biometrics(session, encounter_id)
    if photo is not None and ("face", None) in taken:
        raise Conflict(N_("This registration already has a photo."), field="photo")
    for position in sorted(fingerprints):
        if ("finger", position) in taken:
            raise Conflict(
                N_("Finger %(position)s is already captured for this registration."),
                field=slaps.sent_as(f"fingerprint_{position}", sent),
                position=position,
            )
    samples = _samples(encounter_id, photo, fingerprints)
    repository.add(session, *samples)
    audit.record(
        session,
        principal,
        "encounter.samples_add",
        record_type="encounter",
        record_id=encounter_id,
        details={"source": source, "face": photo is not None, "fingers": sorted(fingerprints)},
    )
    return samples


Step = Callable[[Session, object], object]
STEPS: list[Step] = [validate, store]  # type: ignore[list-item]


def enrol(session: Session, captured: Captured) -> Stored:
    """Run the enrolment steps in order; each takes the previous step's output."""
    result: object = captured
    for step in STEPS:
        result = step(session, result)
    return result  # type: ignore[return-value]
