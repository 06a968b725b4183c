"""Exchange with partners under data-sharing agreements: agreements and keys, the records we share (cut to the
agreement in one place, ``records.only_agreed``), partner queries with a rate limit, bulk exports, NIST imports.
Every export, query and import is checked against its agreement and audited (what was shared, never the content)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pycountry
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import service as biometrics
from travesia.core.crypto import token_digest
from travesia.core.db import Database, utcnow
from travesia.core.errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound, TooManyAttempts
from travesia.core.principal import Principal
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules
from travesia.exchange import nist, repository, rules
from travesia.exchange.records import DocumentRef, Image, PersonRecord, fields_present, only_agreed, to_json
from travesia.exchange.schemas import AgreementIn, ExportIn, PartnerAnswer, PartnerMatch, PartnerQueryIn
from travesia.models import Encounter, ExportJob, PartnerKey, PartnerRequest, SharingAgreement
from travesia.screening import listing
from travesia.screening import reads as screening_reads
from travesia.stations import service as stations

KEY_PREFIX = "trp_"
SYSTEM = Principal(user_id=None, username="exchange", roles=frozenset(), via="system")
AGENCY = "PA-SNM"  # 1.008 ORI of what we send: Panama's Servicio Nacional de Migración in the reference case


# -- agreements --------------------------------------------------------------------------------------------------
def create_agreement(session: Session, principal: Principal, data: AgreementIn) -> SharingAgreement:
    if repository.agreement_by_name(session, data.name) is not None:
        raise Conflict(N_("An agreement with this name exists already."), field="name")
    row = SharingAgreement(**data.model_dump(), created_by=principal.username)
    repository.add(session, row)
    session.flush()
    audit.record(
        session,
        principal,
        "exchange.agreement_create",
        record_type="agreement",
        record_id=row.id,
        details={"name": row.name, "directions": row.directions, "fields": row.fields, "modalities": row.modalities},
    )
    return row


def suspend_agreement(session: Session, principal: Principal, name: str, reason: str) -> SharingAgreement:
    row = agreement_named(session, name)
    if not reason.strip():
        raise InvalidInput(N_("Give the reason."), field="reason")
    row.suspended_at = utcnow()
    audit.record(session, principal, "exchange.agreement_suspend", record_type="agreement", record_id=row.id)
    return row


def find_agreement(session: Session, name: str) -> SharingAgreement | None:
    return repository.agreement_by_name(session, name)


def agreement_named(session: Session, name: str) -> SharingAgreement:
    row = repository.agreement_by_name(session, name)
    if row is None:
        raise NotFound(N_("No agreement with this name."), field="agreement")
    return row


def terms_of(row: SharingAgreement) -> rules.Terms:
    return rules.Terms(
        name=row.name,
        directions=frozenset(row.directions),
        purposes=frozenset(row.purposes),
        fields=frozenset(row.fields),
        modalities=frozenset(row.modalities),
        valid_from=row.valid_from,
        expires_on=row.expires_on,
        suspended_at=row.suspended_at,
    )


def _allowed(row: SharingAgreement, direction: str, purpose: str | None) -> rules.Terms:
    terms = terms_of(row)
    try:
        rules.check(terms, direction, purpose, utcnow().date())
    except rules.NotAgreed as refused:
        raise Forbidden(refused.message, field=refused.field, **refused.params) from None
    return terms


# -- partner keys ------------------------------------------------------------------------------------------------
def create_key(session: Session, principal: Principal, agreement: str, label: str) -> tuple[PartnerKey, str]:
    row = agreement_named(session, agreement)
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = PartnerKey(
        agreement_id=row.id,
        digest=token_digest(token),
        label=label.strip()[:200] or row.partner,
        created_by=principal.username,
    )
    repository.add(session, key)
    session.flush()
    audit.record(
        session,
        principal,
        "exchange.key_create",
        record_type="agreement",
        record_id=row.id,
        details={"key": str(key.id)},
    )
    return key, token


def revoke_key(session: Session, principal: Principal, key_id: uuid.UUID) -> PartnerKey:
    key = repository.key(session, key_id)
    if key is None:
        raise NotFound(N_("No such key."), field="key_id")
    key.revoked_at = utcnow()
    audit.record(
        session,
        principal,
        "exchange.key_revoke",
        record_type="agreement",
        record_id=key.agreement_id,
        details={"key": str(key.id)},
    )
    return key


@dataclass(frozen=True)
class Partner:
    """A caller authenticated by a partner key: the key, its agreement, and the principal the audit names."""

    key_id: uuid.UUID
    agreement_id: uuid.UUID
    principal: Principal


def authenticate(session: Session, token: str) -> Partner | None:
    if not token.startswith(KEY_PREFIX):
        return None
    key = repository.key_by_digest(session, token_digest(token))
    if key is None or key.revoked_at is not None:
        return None
    agreement = repository.agreement(session, key.agreement_id)
    assert agreement is not None
    principal = Principal(
        user_id=None, username=f"partner:{agreement.name}", roles=frozenset(), via="partner", credential_id=str(key.id)
    )
    return Partner(key.id, agreement.id, principal)


def _count_request(session: Session, partner: Partner, agreement: SharingAgreement, kind: str) -> None:
    """A sliding one-minute window over the key's recorded requests; over the agreed rate is a 429."""
    recent = repository.requests_since(session, partner.key_id, utcnow() - timedelta(minutes=1))
    if recent >= agreement.rate_per_minute:
        raise TooManyAttempts(N_("Too many requests under this agreement; wait a minute."), field="key")
    repository.add(session, PartnerRequest(key_id=partner.key_id, kind=kind))


# -- the records we share ----------------------------------------------------------------------------------------
def person_records(session: Session, person_ids: list[uuid.UUID], modalities: frozenset[str]) -> list[PersonRecord]:
    """Each person as of their latest registration, with their newest face and fingers (only the modalities asked)."""
    live = repository.live_persons(session, person_ids)
    ids = [p for p in person_ids if p in live]
    latest = repository.latest_encounters(session, ids)
    codes = stations.codes_by_id(session, {e.station_id for e in latest.values()})
    faces: dict[uuid.UUID, Image] = {}
    fingers: dict[uuid.UUID, dict[int, Image]] = {}
    for person_id, sample in repository.samples_of_persons(session, ids, set(modalities)):
        image = Image(sample.image_format, sample.width, sample.height, sample.image)
        if sample.modality == "face":
            faces.setdefault(person_id, image)
        elif sample.finger_position:
            fingers.setdefault(person_id, {}).setdefault(sample.finger_position, image)
    return [_record(latest[p], codes, faces.get(p), fingers.get(p, {})) for p in ids if p in latest]


def _record(e: Encounter, codes: dict[uuid.UUID, str], face: Image | None, fingers: dict[int, Image]) -> PersonRecord:
    birth = enrolment_rules.birth_text(e.birth_year, e.birth_month, e.birth_day)
    docs = tuple(
        DocumentRef(d.doc_type, d.number, d.issuing_state, d.expiry_date.isoformat() if d.expiry_date else None)
        for d in e.documents
    )
    return PersonRecord(
        ref=str(e.person_id),
        given_names=e.given_names or None,
        surnames=e.surnames,
        birth_date=birth,
        sex=e.sex,
        nationality=e.nationality,
        country_of_birth=e.country_of_birth,
        documents=docs,
        phone=e.phone,
        languages=tuple(e.languages or ()),
        route=tuple(e.route_countries or ()),
        station=codes.get(e.station_id),
        registered_on=e.occurred_at.date().isoformat(),
        face=face,
        fingers=fingers,
    )


def shared(records: list[PersonRecord], terms: rules.Terms) -> list[PersonRecord]:
    return [only_agreed(r, terms.fields, terms.modalities) for r in records]


def record_partner_refusal(session: Session, partner: Partner, kind: str, purpose: str, refusal: DomainError) -> None:
    """A refused request (purpose, direction, modality, period), in the request's session after its work rolled
    back: it counts against the agreement's rate like any other, so refusals cannot be used to probe for free, and
    the audit trail says what was refused and why — never what was asked about."""
    agreement = repository.agreement(session, partner.agreement_id)
    assert agreement is not None
    repository.add(session, PartnerRequest(key_id=partner.key_id, kind=kind))
    audit.record(
        session,
        partner.principal,
        "exchange.refused",
        outcome="refused",
        purpose=purpose[:200],
        details={"agreement": agreement.name, "request": kind, "status": refusal.status_code, "field": refusal.field},
    )


# -- partner queries ---------------------------------------------------------------------------------------------
def partner_query(
    session: Session, bio: biometrics.Biometrics, partner: Partner, data: PartnerQueryIn
) -> PartnerAnswer:
    agreement = repository.agreement(session, partner.agreement_id)
    assert agreement is not None
    terms = _allowed(agreement, "query", data.purpose)
    if data.face and "face" not in terms.modalities:
        raise Forbidden(N_("The agreement %(name)s does not cover faces."), field="face", name=terms.name)
    _count_request(session, partner, agreement, "query")
    found: dict[uuid.UUID, tuple[str, float | None]] = {}
    if data.document_number:
        number = enrolment_rules.document_number(data.document_number)
        for person_id in repository.persons_by_document(session, number, agreement.max_records):
            found.setdefault(person_id, ("document", None))
    if data.surnames:
        for person_id in _by_name(session, data, agreement.max_records):
            found.setdefault(person_id, ("name", None))
    if data.face:
        for person_id, score in _by_face(session, bio, partner, data.face):
            found.setdefault(person_id, ("face", score))
    ids = list(found)[: agreement.max_records]
    records = shared(person_records(session, ids, terms.modalities), terms)
    matches = [
        PartnerMatch(
            ref=r.ref,
            matched_on=found[uuid.UUID(r.ref)][0],
            score=found[uuid.UUID(r.ref)][1],
            record=to_json(r),
            face=base64.b64encode(r.face.data).decode() if r.face else None,
        )
        for r in records
    ]
    audit.record(
        session,
        partner.principal,
        "exchange.query",
        purpose=data.purpose,
        details={
            "agreement": terms.name,
            "by": sorted({m.matched_on for m in matches} or {"none"}),
            "results": len(matches),
            "fields": sorted(terms.fields),
            "modalities": sorted(terms.modalities),
        },
    )
    return PartnerAnswer(agreement=terms.name, fields=sorted(terms.fields), matches=matches)


def _by_name(session: Session, data: PartnerQueryIn, limit: int) -> list[uuid.UUID]:
    tokens = enrolment_rules.name_key(data.given_names or "", data.surnames or "").split()
    rows = enrolment.by_name_tokens(session, SYSTEM, tokens, limit * 5)
    out = []
    for e in rows:
        if data.birth_year is not None and abs(e.birth_year - data.birth_year) > 1:
            continue
        if data.nationality is not None and e.nationality not in (None, data.nationality):
            continue
        if e.person_id not in out:
            out.append(e.person_id)
    return out[:limit]


def _by_face(
    session: Session, bio: biometrics.Biometrics, partner: Partner, encoded: str
) -> list[tuple[uuid.UUID, float]]:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput(N_("The face is not base64."), field="face") from None
    probe = biometrics.probe_of("face", raw)
    hits = biometrics.search_probe(session, bio, partner.principal, probe, k=10)
    return [(h.person_id, round(h.score, 4)) for h in hits if h.match and h.person_id is not None]


# -- bulk exports ------------------------------------------------------------------------------------------------
def partner_export(session: Session, partner: Partner, data: ExportIn) -> ExportJob:
    """A partner's bulk export job: counted against the agreement's rate, then checked and queued as any other."""
    agreement = repository.agreement(session, partner.agreement_id)
    assert agreement is not None
    _allowed(agreement, "export", data.purpose)
    _count_request(session, partner, agreement, "export")
    return request_export(session, partner.principal, partner.agreement_id, data)


def request_export(session: Session, principal: Principal, agreement_id: uuid.UUID, data: ExportIn) -> ExportJob:
    agreement = repository.agreement(session, agreement_id)
    assert agreement is not None
    _allowed(agreement, "export", data.purpose)
    if data.station and stations.station_by_code(session, data.station) is None:
        raise InvalidInput(N_("Unknown station code: %(code)s"), field="station", code=data.station)
    job = ExportJob(
        agreement_id=agreement.id,
        requested_by=principal.username,
        purpose=data.purpose,
        format=data.format,
        criteria=data.model_dump(mode="json", exclude={"purpose", "format"}),
    )
    repository.add(session, job)
    session.flush()
    audit.record(
        session,
        principal,
        "exchange.export_request",
        record_type="export",
        record_id=job.id,
        purpose=data.purpose,
        details={"agreement": agreement.name, "format": data.format},
    )
    return job


def export_file(folder: Path, job_id: uuid.UUID, fmt: str) -> Path:
    return folder / "exports" / f"{job_id}.{'nist' if fmt == 'nist' else 'jsonl'}"


def run_export(db: Database, job_id: uuid.UUID, folder: Path) -> ExportJob:
    """Build the file of a queued job: the agreement is checked again when it runs (it may have lapsed since)."""
    with db.transaction() as session:
        job = repository.job(session, job_id)
        if job is None or job.state != "queued":
            raise Conflict(N_("This export is not waiting to run."), field="job")
        job.state = "running"
    try:
        with db.transaction() as session:
            job = repository.job(session, job_id)
            agreement = repository.agreement(session, job.agreement_id)  # type: ignore[union-attr]
            assert job is not None and agreement is not None
            terms = _allowed(agreement, "export", job.purpose)
            records = shared(person_records(session, _selection(session, job, agreement), terms.modalities), terms)
            path = export_file(folder, job.id, job.format)
            path.parent.mkdir(parents=True, exist_ok=True)
            body = _serialise(records, job)
            path.write_bytes(body)
            job.state, job.records, job.size = "done", len(records), len(body)
            job.sha256, job.finished_at = hashlib.sha256(body).hexdigest(), utcnow()
            audit.record(
                session,
                SYSTEM,
                "exchange.export",
                record_type="export",
                record_id=job.id,
                purpose=job.purpose,
                details={
                    "agreement": terms.name,
                    "records": len(records),
                    "fields": sorted(terms.fields),
                    "modalities": sorted(terms.modalities),
                    "sha256": job.sha256,
                },
            )
            return job
    except Exception as error:
        with db.transaction() as session:
            failed = repository.job(session, job_id)
            assert failed is not None
            failed.state, failed.finished_at = "failed", utcnow()
            failed.error = getattr(error, "message", None) or type(error).__name__
        raise


def _selection(session: Session, job: ExportJob, agreement: SharingAgreement) -> list[uuid.UUID]:
    c = job.criteria
    station = stations.station_by_code(session, str(c["station"])) if c.get("station") else None

    def day(value: object) -> datetime | None:
        return datetime.combine(datetime.fromisoformat(str(value)).date(), time(), UTC) if value else None

    to = day(c.get("registered_to"))
    return repository.persons_for_export(
        session,
        registered_from=day(c.get("registered_from")),
        registered_to=to + timedelta(days=1) if to else None,
        nationality=c.get("nationality"),
        station_id=station.id if station else None,  # type: ignore[arg-type]
        limit=agreement.max_records,
    )


def _serialise(records: list[PersonRecord], job: ExportJob) -> bytes:
    if job.format == "nist":
        today = utcnow().date()
        return nist.encode(records, agency=AGENCY, control=job.id.hex, destination="PARTNER", today=today)
    lines = []
    for r in records:
        item = to_json(r)
        if r.face is not None:
            item["face"] = {**item["face"], "data": base64.b64encode(r.face.data).decode()}  # type: ignore[dict-item]
        if r.fingers:
            item["fingers"] = {
                str(p): {"format": i.format, "data": base64.b64encode(i.data).decode()}
                for p, i in sorted(r.fingers.items())
            }
        lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode() if lines else b""


# -- imports -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    persons: int
    faces: int
    fingers: int
    ignored_fields: list[str]
    report: listing.ImportReport
    templates: int = 0  # made from the images, for biometric screening (with ``bio``)


def import_nist(
    session: Session,
    principal: Principal,
    agreement_name: str,
    list_name: str,
    data: bytes,
    *,
    file_name: str,
    mode: str = "full",
    bio: biometrics.Biometrics | None = None,
) -> ImportResult:
    """A partner's NIST file into a watchlist, taking only what the agreement names (the rest is reported). With
    ``bio``, the agreed faces and fingers become the entries' templates, so registrations are screened against them
    biometrically too; the models run before anything is written (on SQLite, before the write lock is taken)."""
    agreement = agreement_named(session, agreement_name)
    terms = _allowed(agreement, "import", None)
    try:
        transaction = nist.decode(data)
    except nist.NistProblem as problem:
        raise InvalidInput(
            N_("The file was refused, nothing was imported: %(problem)s"), field=problem.where, problem=problem.problem
        ) from None
    ignored = sorted(fields_present(transaction.persons) - terms.fields)
    records = shared(transaction.persons, terms)
    extracted = {_entity_id(r, transaction.agency): _extract_images(r) for r in records} if bio is not None else {}
    lines = [json.dumps(_entity(r, transaction.agency), ensure_ascii=False) for r in records]
    report = listing.import_list(
        session,
        principal,
        list_name,
        lines,
        file_name=file_name,
        format_name="ftm",
        source=f"{agreement.partner} ({transaction.agency})",
        mode=mode,
    )
    templates = _entry_templates(session, bio, list_name, report, extracted) if bio is not None else 0
    faces = sum(r.face is not None for r in records)
    fingers = sum(len(r.fingers) for r in records)
    audit.record(
        session,
        principal,
        "exchange.import",
        record_type="watchlist",
        record_id=report.version_id,
        details={
            "agreement": agreement.name,
            "persons": len(records),
            "faces": faces,
            "fingers": fingers,
            "templates": templates,
            "ignored_fields": ignored,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    return ImportResult(len(records), faces, fingers, ignored, report, templates)


def _extract_images(r: PersonRecord) -> list[biometrics.Extracted]:
    """Templates of a record's face and fingers; an unusable image is a result (no template), not a refusal."""
    captures = [biometrics.Capture(uuid.uuid4(), "face", None, r.face.data)] if r.face else []
    captures += [biometrics.Capture(uuid.uuid4(), "finger", p, i.data) for p, i in sorted(r.fingers.items())]
    return [biometrics.extract(c) for c in captures]


def _entry_templates(
    session: Session,
    bio: biometrics.Biometrics,
    list_name: str,
    report: listing.ImportReport,
    extracted: dict[str, list[biometrics.Extracted]],
) -> int:
    """Each imported entry's templates in place of what it had; entries this version removed lose theirs."""
    wl = screening_reads.watchlist_by_name(session, list_name)
    assert wl is not None  # import_list just wrote a version of it
    live = screening_reads.live_entries(session, wl.id)
    by_entry = {live[key].id: items for key, items in extracted.items() if key in live}
    changed = screening_reads.entries_changed_since(session, wl.id, report.version - 1)
    gone = [e.id for e in changed if e.removed_version is not None]
    return biometrics.store_watchlist_templates(session, bio, by_entry, gone)


GENDER = {"M": "male", "F": "female", "X": "other"}


def _entity(r: PersonRecord, agency: str) -> dict[str, object]:
    """FollowTheMoney Person for the watchlist (countries as FtM's alpha-2 codes)."""
    props: dict[str, list[str]] = {}
    if r.surnames:
        props["name"] = [" ".join(p for p in (r.given_names, r.surnames) if p)]
        props["lastName"] = [r.surnames]
        if r.given_names:
            props["firstName"] = [r.given_names]
    if r.birth_date:
        props["birthDate"] = [r.birth_date]
    if r.sex in GENDER:
        props["gender"] = [GENDER[r.sex]]
    for prop, code in (("nationality", r.nationality), ("birthPlace", r.country_of_birth)):
        country = pycountry.countries.get(alpha_3=code) if code else None
        if country is not None:
            props[prop] = [country.alpha_2.lower()] if prop == "nationality" else [country.name]
    for doc in r.documents:
        props.setdefault("passportNumber" if doc.doc_type == "passport" else "idNumber", []).append(doc.number)
    return {"id": _entity_id(r, agency), "schema": "Person", "properties": props}


def _entity_id(r: PersonRecord, agency: str) -> str:
    return f"{agency}:{r.ref}"
