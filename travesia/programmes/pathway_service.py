"""Legal pathways: programmes loaded from a rules file, a person's eligibility rule by rule, referrals with consent,
and the partner's export — only the fields its data-sharing agreement names, only for those who consented."""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, NotFound
from travesia.core.principal import Principal
from travesia.enrolment import rules as enrolment_rules
from travesia.identity.service import current_person
from travesia.models import PathwayProgramme, PathwayReferral
from travesia.programmes import pathways, repository


def load(session: Session, principal: Principal, items: list[pathways.ProgrammeIn]) -> int:
    for item in items:
        row = repository.programme(session, item.code) or PathwayProgramme(code=item.code)
        row.name, row.partner, row.agreement = item.name, item.partner, item.agreement
        row.rules = item.rules.model_dump(mode="json")
        row.export_fields, row.active, row.updated_at = list(item.export_fields), item.active, utcnow()
        session.add(row)
        details = {"rules": sorted(k for k, v in row.rules.items() if v), "fields": row.export_fields}
        audit.record(session, principal, "pathways.load", record_type="pathway", record_id=item.code, details=details)
    session.flush()
    return len(items)


def _facts(session: Session, person: uuid.UUID, family_ties: list[str]) -> pathways.Facts:
    encounters = repository.registrations(session, person)
    if not encounters:
        raise NotFound(N_("No such person."), field="person_id")
    latest, first = encounters[-1], encounters[0]
    today = utcnow().date()
    return pathways.Facts(
        nationality=latest.nationality,
        age=enrolment_rules.age_on(latest.birth_year, latest.birth_month, latest.birth_day, today),
        first_registered=first.occurred_at.date(),
        family_ties=tuple(family_ties),
    )


def evaluate(
    session: Session, principal: Principal, person_id: uuid.UUID, family_ties: list[str]
) -> list[tuple[PathwayProgramme, list[pathways.Check]]]:
    person = current_person(session, person_id)
    facts = _facts(session, person, family_ties)
    audit.record(session, principal, "pathways.evaluate", record_type="person", record_id=person)
    return [(p, pathways.evaluate(pathways.Rules(**p.rules), facts)) for p in repository.programmes(session)]


def refer(
    session: Session, principal: Principal, code: str, person_id: uuid.UUID, consent: str, family_ties: list[str]
) -> PathwayReferral:
    programme = repository.programme(session, code)
    if programme is None or not programme.active:
        raise NotFound(N_("No such pathway."), field="code")
    person = current_person(session, person_id)
    checks = pathways.evaluate(pathways.Rules(**programme.rules), _facts(session, person, family_ties))
    failed = [c.rule for c in checks if not c.met]
    if failed:
        raise Conflict(N_("Not eligible: %(rules)s."), field="code", rules=", ".join(failed))
    if repository.pathway_referral(session, code, person) is not None:
        raise Conflict(N_("Already referred to this pathway."), field="code")
    row = PathwayReferral(
        programme_code=code, person_id=person, consent=consent, declared={"family_ties": family_ties},
        checks=[c.rule for c in checks], referred_by_id=principal.user_id, referred_at=utcnow(),
    )  # fmt: skip
    repository.add(session, row)
    audit.record(
        session, principal, "pathways.refer", record_type="person", record_id=person, details={"pathway": code}
    )
    return row


def export(session: Session, principal: Principal, code: str) -> str:
    """CSV of the consenting referrals with exactly the agreement's fields, in the agreement's order."""
    programme = repository.programme(session, code)
    if programme is None:
        raise NotFound(N_("No such pathway."), field="code")
    fields = list(programme.export_fields)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields)
    referrals = repository.referrals_to_export(session, code)
    for r in referrals:
        encounters = repository.registrations(session, r.person_id)
        latest = encounters[-1]
        doc = repository.first_document(session, [e.id for e in encounters])
        values = {
            "person_id": str(r.person_id),
            "given_names": latest.given_names,
            "surnames": latest.surnames,
            "sex": latest.sex,
            "birth_date": enrolment_rules.birth_text(latest.birth_year, latest.birth_month, latest.birth_day),
            "nationality": latest.nationality or "",
            "document": f"{doc.number} {doc.issuing_state or ''}".strip() if doc else "",
            "phone": latest.phone or "",
            "family_ties": ";".join(r.declared.get("family_ties", [])),  # type: ignore[arg-type]
            "referred_at": r.referred_at.date().isoformat(),
        }
        writer.writerow([values[f] for f in fields])
    audit.record(session, principal, "pathways.export", record_type="pathway", record_id=code,
                 details={"rows": len(referrals), "fields": fields, "agreement": programme.agreement})  # fmt: skip
    return out.getvalue()
