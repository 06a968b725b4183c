"""Exchange with partners under data-sharing agreements: agreements and keys, the records we share (cut to the
agreement in one place, ``records.only_agreed``), partner queries with a rate limit, bulk exports, NIST imports.
Every export, query and import is checked against its agreement and audited (what was shared, never the content)."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import service as biometrics
from travesia.biometrics import tools as bio_tools
from travesia.core.crypto import token_digest
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound, TooManyAttempts
from travesia.core.principal import Principal
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules
from travesia.exchange import repository, rules
from travesia.exchange.records import DocumentRef, Image, PersonRecord, only_agreed, to_json
from travesia.exchange.schemas import AgreementIn, PartnerAnswer, PartnerMatch, PartnerQueryIn
from travesia.models import Encounter, PartnerKey, PartnerRequest, SharingAgreement
from travesia.stations import service as stations

T = TypeVar("T")

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


def allowed_terms(row: SharingAgreement, direction: str, purpose: str | None) -> rules.Terms:
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


def count_request(session: Session, partner: Partner, agreement: SharingAgreement, kind: str) -> None:
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


def refusals_recorded(session: Session, partner: Partner, kind: str, purpose: str, work: Callable[[], T]) -> T:
    """``work``, or its refusal (the agreement forbids it, the input is wrong) counted and audited: the refused work
    is undone in its savepoint and the refusal's record is kept when the request's unit of work ends."""
    savepoint = session.begin_nested()
    try:
        result = work()
    except (Forbidden, InvalidInput) as refusal:
        savepoint.rollback()
        record_partner_refusal(session, partner, kind, purpose, refusal)
        refusal.keeps_writes = True
        raise
    savepoint.commit()
    return result


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
    terms = allowed_terms(agreement, "query", data.purpose)
    if data.face and "face" not in terms.modalities:
        raise Forbidden(N_("The agreement %(name)s does not cover faces."), field="face", name=terms.name)
    count_request(session, partner, agreement, "query")
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
    probe = bio_tools.probe_of("face", raw, model=bio.face_model)
    hits = bio_tools.search_probe(session, bio, partner.principal, probe, k=10)
    return [(h.person_id, round(h.score, 4)) for h in hits if h.match and h.person_id is not None]
