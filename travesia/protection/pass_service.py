"""Safe-conduct passes: issued signed (Ed25519) to a person the officer may see, revoked with a reason, verified
offline from the printed QR code; every pass and revocation audited."""

from __future__ import annotations

import uuid
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import crypto
from travesia.core.db import utcnow
from travesia.core.errors import N_, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules
from travesia.enrolment.scope import visible_person
from travesia.models import (
    SafeConductPass,
)
from travesia.protection import passes, repository, service

# -- safe-conduct passes ----------------------------------------------------------------------------------------------
MAX_PASS_DAYS = 90


def issue_pass(
    session: Session,
    principal: Principal,
    key: Ed25519PrivateKey,
    person_id: uuid.UUID,
    *,
    valid_from: date,
    valid_until: date,
    route: list[str],
    destination: str,
) -> SafeConductPass:
    person = visible_person(session, principal, person_id)
    if valid_until < valid_from:
        raise InvalidInput(N_("The pass ends before it starts."), field="valid_until")
    if (valid_until - valid_from).days > MAX_PASS_DAYS:
        raise InvalidInput(N_("A pass is valid for %(days)s days at most."), field="valid_until", days=MAX_PASS_DAYS)
    encounters = enrolment.person_encounters(session, person, principal)
    if not encounters:
        raise NotFound(N_("No such person."), field="person_id")
    latest = encounters[-1]
    pass_id = uuid.uuid4()
    initials = "".join(w[0] for w in f"{latest.given_names} {latest.surnames}".split() if w[:1].isalpha())[:4]
    payload = {
        "n": str(pass_id),
        "f": valid_from.isoformat(),
        "u": valid_until.isoformat(),
        "r": route,
        "d": destination,
        "i": f"{enrolment_rules.fold(initials).upper()} {latest.birth_year}",
    }
    token = passes.sign(payload, key)
    row = SafeConductPass(
        id=pass_id, person_id=person, encounter_id=latest.id, valid_from=valid_from, valid_until=valid_until,
        route=route, destination=destination, key_id=crypto.key_id(key.public_key()), token=token,
        issued_by_id=principal.user_id, issued_at=utcnow(),
    )  # fmt: skip
    repository.add(session, row)
    audit.record(session, principal, "protection.pass_issue", record_type="person", record_id=person,
                 details={"pass": str(pass_id)})  # fmt: skip
    return row


def revoke_pass(session: Session, principal: Principal, pass_id: uuid.UUID, reason: str) -> SafeConductPass:
    row = repository.pass_(session, pass_id)
    if row is None or not service.sees(session, principal, row.person_id):
        raise NotFound(N_("No such pass."), field="pass_id")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id, row.revoke_reason = utcnow(), principal.user_id, reason
        audit.record(session, principal, "protection.pass_revoke", record_type="person", record_id=row.person_id,
                     details={"pass": str(pass_id)})  # fmt: skip
    return row


def revocation_document(session: Session, key: Ed25519PrivateKey) -> str:
    return passes.revocation_list(repository.revoked_passes(session), utcnow().date(), key)
