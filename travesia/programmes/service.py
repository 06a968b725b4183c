"""Repatriation and voluntary return: flights, manifests that keep families together, boarding — behind the
non-refoulement gate, which lives here and nowhere else: every path that puts a person on a manifest (the page,
the API, bulk placement, a re-run) calls ``place``, and boarding checks again.

A refusal is an answer, not an error: it is audited with its reasons and committed, so the trail keeps every
refused attempt."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import pdf
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, NotFound
from travesia.core.principal import Principal
from travesia.enrolment import rules as enrolment_rules
from travesia.identity.service import current_person
from travesia.models import Encounter, Flight, ManifestEntry
from travesia.programmes import repository, rules
from travesia.programmes.schemas import EligibleOut, FlightIn, PlaceIn, PlacementOut
from travesia.protection import service as protection


def create_flight(session: Session, principal: Principal, data: FlightIn) -> Flight:
    flight = Flight(**data.model_dump(), created_by_id=principal.user_id, created_at=utcnow())
    repository.add(session, flight)
    audit.record(session, principal, "programmes.flight_create", record_type="flight", record_id=flight.id,
                 details={"kind": data.kind, "destination": data.destination, "capacity": data.capacity})  # fmt: skip
    return flight


def _open_flight(session: Session, flight_id: uuid.UUID) -> Flight:
    flight = repository.flight(session, flight_id, lock=True)
    if flight is None:
        raise NotFound(N_("No such flight."), field="flight_id")
    if flight.state not in ("planned", "boarding"):
        raise Conflict(N_("This flight has %(state)s."), field="flight_id", state=flight.state)
    return flight


def _refuse(
    session: Session, principal: Principal, flight: Flight, action: str, reasons: dict[uuid.UUID, list[str]]
) -> None:
    for person, why in reasons.items():
        audit.record(session, principal, action, outcome="refused", record_type="person", record_id=person,
                     details={"flight": str(flight.id), "reasons": why})  # fmt: skip


def place(session: Session, principal: Principal, flight_id: uuid.UUID, data: PlaceIn) -> PlacementOut:
    """The person and their whole family, or nobody: refused when anyone in the family is protected, on another
    flight, unfit to fly, without consent for a voluntary return, or when the seats do not suffice."""
    flight = _open_flight(session, flight_id)
    person = current_person(session, data.person_id)
    family_key, family = repository.family(session, person)
    protection.lock_for_hold(session, family)
    verdict = rules.family_verdict(
        [str(p) for p in family], {str(p): h for p, h in protection.holds(session, family).items()}
    )
    reasons = {uuid.UUID(p): r for p, r in verdict.items()}
    for p in repository.elsewhere(session, flight.id, family):
        reasons[p] = [*reasons[p], "on_another_flight"]
    if data.medically_fit is False:
        reasons[person] = [*reasons[person], "not_medically_fit"]
    if flight.kind == "voluntary_return" and data.consent != "given":
        reasons[person] = [*reasons[person], "no_consent"]
    existing = {e.person_id: e for e in repository.entries_of(session, flight.id, family)}
    new = [p for p in family if p not in existing or existing[p].state == "removed"]
    if rules.seats_left(flight.capacity, repository.occupied(session, flight.id)) < len(new):
        reasons[person] = [*reasons[person], "no_seats"]
    if any(reasons.values()):
        family_refused = {p: r or ["family_member_refused"] for p, r in reasons.items()}
        _refuse(session, principal, flight, "programmes.place", family_refused)
        return PlacementOut(placed=[], refused={str(p): r for p, r in family_refused.items()})
    now = utcnow()
    for p in new:
        entry = existing.get(p)
        if entry is None:
            entry = ManifestEntry(flight_id=flight.id, person_id=p, family_key=family_key, placed_at=now)
            repository.add(session, entry)
        entry.state, entry.placed_by_id, entry.placed_at, entry.note = "placed", principal.user_id, now, None
        if p == person:
            entry.medically_fit, entry.consent = data.medically_fit, data.consent
        audit.record(session, principal, "programmes.place", record_type="person", record_id=p,
                     details={"flight": str(flight.id), "family": family_key})  # fmt: skip
    session.flush()
    return PlacementOut(placed=new, refused={})


def place_many(session: Session, principal: Principal, flight_id: uuid.UUID, items: list[PlaceIn]) -> PlacementOut:
    """Bulk placement: each person through ``place`` (families and the gate included); no shortcut."""
    placed: list[uuid.UUID] = []
    refused: dict[str, list[str]] = {}
    for item in items:
        result = place(session, principal, flight_id, item)
        placed += [p for p in result.placed if p not in placed]
        refused.update(result.refused)
    return PlacementOut(placed=placed, refused=refused)


def set_fitness(
    session: Session, principal: Principal, flight_id: uuid.UUID, person_id: uuid.UUID, fit: bool, consent: str | None
) -> ManifestEntry:
    flight = _open_flight(session, flight_id)
    person = current_person(session, person_id)
    [entry] = repository.entries_of(session, flight.id, [person]) or [None]
    if entry is None or entry.state == "removed":
        raise NotFound(N_("This person is not on the manifest."), field="person_id")
    entry.medically_fit, entry.consent = fit, consent or entry.consent
    audit.record(session, principal, "programmes.fitness", record_type="person", record_id=person,
                 details={"flight": str(flight.id), "fit": fit})  # fmt: skip
    return entry


def remove(
    session: Session, principal: Principal, flight_id: uuid.UUID, person_id: uuid.UUID, reason: str
) -> list[uuid.UUID]:
    """Off the manifest with the whole family."""
    flight = _open_flight(session, flight_id)
    person = current_person(session, person_id)
    _, family = repository.family(session, person)
    removed = []
    for entry in repository.entries_of(session, flight.id, family):
        if entry.state in ("placed", "held"):
            entry.state, entry.note = "removed", reason
            removed.append(entry.person_id)
            audit.record(session, principal, "programmes.remove", record_type="person", record_id=entry.person_id,
                         details={"flight": str(flight.id)})  # fmt: skip
    if not removed:
        raise NotFound(N_("This person is not on the manifest."), field="person_id")
    return removed


@dataclass
class Boarding:
    boarded: list[uuid.UUID]
    held: dict[str, list[str]]


def board(session: Session, principal: Principal, flight_id: uuid.UUID, person_id: uuid.UUID) -> Boarding:
    """The family boards together after the gate is checked again: a hold recorded since placement (an asylum
    intention at the door, a merge with a protected record) keeps the whole family on the ground."""
    flight = _open_flight(session, flight_id)
    person = current_person(session, person_id)
    _, family = repository.family(session, person)
    entries = {
        e.person_id: e for e in repository.entries_of(session, flight.id, family) if e.state in ("placed", "held")
    }
    if person not in entries:
        raise NotFound(N_("This person is not on the manifest."), field="person_id")
    protection.lock_for_hold(session, family)
    verdict = rules.family_verdict(
        [str(p) for p in entries], {str(p): h for p, h in protection.holds(session, list(entries)).items()}
    )
    reasons = {uuid.UUID(p): r for p, r in verdict.items()}
    for p, entry in entries.items():
        if entry.medically_fit is not True:
            reasons[p] = [*reasons[p], "medical_fitness_not_confirmed"]
        if flight.kind == "voluntary_return" and entry.consent != "given":
            reasons[p] = [*reasons[p], "no_consent"]
    flight.state = "boarding"
    if any(reasons.values()):
        held = {p: r or ["family_member_held"] for p, r in reasons.items()}
        for p, entry in entries.items():
            entry.state, entry.note = "held", ",".join(held[p])
        _refuse(session, principal, flight, "programmes.board", held)
        return Boarding([], {str(p): r for p, r in held.items()})
    now = utcnow()
    for p, entry in entries.items():
        entry.state, entry.boarded_at = "boarded", now
        audit.record(session, principal, "programmes.board", record_type="person", record_id=p,
                     details={"flight": str(flight.id)})  # fmt: skip
    return Boarding(list(entries), {})


def eligibility(
    session: Session,
    principal: Principal,
    flight_id: uuid.UUID,
    limit: int = 200,
    *,
    query: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[EligibleOut]:
    """Nationals of the destination, each with the reasons they may not be placed (none: eligible): their own
    holds, a protected relative (families travel together), another flight. ``query`` narrows to a name or, when it
    holds a digit, a document number; ``after`` is the keyset cursor (the last row's registration time and id)."""
    flight = repository.flight(session, flight_id)
    if flight is None:
        raise NotFound(N_("No such flight."), field="flight_id")
    text = (query or "").strip()
    by_document = any(c.isdigit() for c in text)
    found = repository.nationals(
        session, flight.destination, limit, after=after,
        name_tokens=[] if by_document else enrolment_rules.name_key(text, "").split(),
        document=text.upper() if by_document else None,
    )  # fmt: skip
    persons = [p for p, _ in found]
    families = {p: repository.family(session, p)[1] for p in persons}
    everyone = sorted({m for f in families.values() for m in f}, key=str)
    held = protection.holds(session, everyone)
    away = repository.elsewhere(session, flight.id, persons)
    names = repository.latest(session, everyone)
    audit.record(session, principal, "programmes.eligibility", record_type="flight", record_id=flight.id,
                 details={"listed": len(persons), "searched": bool(text)})  # fmt: skip
    out = []
    for p, last in found:
        verdict = rules.family_verdict([str(m) for m in families[p]], {str(m): held[m] for m in families[p]})
        reasons = verdict[str(p)] + (["on_another_flight"] if p in away else [])
        out.append(
            EligibleOut(
                person_id=p, name=_name(names.get(p), p), reasons=reasons, last_registered=last,
                family=[_name(names.get(m), m) for m in families[p] if m != p],
            )
        )  # fmt: skip
    return out


def _name(encounter: Encounter | None, person_id: uuid.UUID) -> str:
    return f"{encounter.given_names} {encounter.surnames}" if encounter else str(person_id)


# -- exports ----------------------------------------------------------------------------------------------------------
@dataclass
class ManifestRow:
    family: str
    person_id: uuid.UUID
    name: str
    sex: str
    birth_year: int | None
    nationality: str
    document: str
    state: str
    medically_fit: str
    consent: str


def manifest_rows(session: Session, principal: Principal, flight_id: uuid.UUID) -> tuple[Flight, list[ManifestRow]]:
    flight = repository.flight(session, flight_id)
    if flight is None:
        raise NotFound(N_("No such flight."), field="flight_id")
    entries = repository.entries(session, flight.id)
    names = repository.latest(session, [e.person_id for e in entries])
    audit.record(session, principal, "programmes.manifest_export", record_type="flight", record_id=flight.id,
                 details={"rows": len(entries)})  # fmt: skip
    rows = []
    for entry in entries:
        e = names.get(entry.person_id)
        rows.append(
            ManifestRow(
                family=entry.family_key[:8], person_id=entry.person_id,
                name=f"{e.given_names} {e.surnames}".strip() if e else "", sex=e.sex if e else "",
                birth_year=e.birth_year if e else None, nationality=(e.nationality or "") if e else "",
                document="", state=entry.state,
                medically_fit={True: "yes", False: "no", None: "not assessed"}[entry.medically_fit],
                consent=entry.consent or "",
            )
        )  # fmt: skip
    return flight, rows


def manifest_csv(session: Session, principal: Principal, flight_id: uuid.UUID) -> str:
    _, rows = manifest_rows(session, principal, flight_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["family", "person_id", "name", "sex", "birth_year", "nationality", "state", "medically_fit", "consent"]
    )
    for r in rows:
        writer.writerow(
            [r.family, r.person_id, r.name, r.sex, r.birth_year, r.nationality, r.state, r.medically_fit, r.consent]
        )
    return out.getvalue()


def manifest_pdf(session: Session, principal: Principal, flight_id: uuid.UUID) -> bytes:
    flight, rows = manifest_rows(session, principal, flight_id)
    doc = pdf.document(f"Manifest {flight.id}")
    doc.set_font("helvetica", "B", 14)
    doc.cell(
        0,
        8,
        pdf.latin(f"Manifest - {flight.kind.replace('_', ' ')} to {flight.destination}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    doc.set_font("helvetica", size=10)
    doc.cell(0, 6, pdf.latin(f"{flight.departs_on.isoformat()} · {flight.operator} · capacity {flight.capacity} · "
                             f"{len(rows)} on the manifest"), new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    doc.ln(2)
    widths = (18, 70, 10, 16, 22, 24, 30)
    headers = ("Family", "Name", "Sex", "Born", "State", "Fit", "Consent")
    doc.set_font("helvetica", "B", 9)
    for w, h in zip(widths, headers, strict=True):
        doc.cell(w, 6, h, border=1)
    doc.ln()
    doc.set_font("helvetica", size=9)
    for r in rows:
        values = (r.family, r.name, r.sex, str(r.birth_year or ""), r.state, r.medically_fit, r.consent)
        for w, v in zip(widths, values, strict=True):
            doc.cell(w, 6, pdf.latin(v)[:40], border=1)
        doc.ln()
    return pdf.output(doc)
