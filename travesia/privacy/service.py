"""Data-protection duties: retention (a dry run that lists, a run that anonymises) and the subject-access report.

Retention never deletes a person's row nor an audit event: it removes the personal data (names, contacts, notes,
documents, images and templates, free-text reasons) and keeps a pseudonymous id with what statistics need. The
audit trail holds ids and codes only (audit.service refuses nothing else by convention and review), so its chain
is untouched and still verifies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import pdf
from travesia.core.db import utcnow
from travesia.core.errors import N_, NotFound
from travesia.core.principal import Principal
from travesia.identity.service import current_person
from travesia.models import (
    Alert,
    AsylumClaim,
    BiometricSample,
    CaseNote,
    Document,
    Encounter,
    IdentityDecision,
    InspectionSubject,
    ManifestEntry,
    PathwayReferral,
    ProtectionCase,
    ProtectionFlag,
    Referral,
    SafeConductPass,
    TraffickingScreening,
    TravelContact,
)
from travesia.privacy import repository, retention

BATCH = 500


@dataclass
class RetentionReport:
    due: list[retention.Due]
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    operational: dict[str, int] = field(default_factory=dict)  # operational records past their period

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.due:
            out[d.kind] = out.get(d.kind, 0) + 1
        return out


def plan(session: Session, rules: retention.Rules, today: date) -> list[retention.Due]:
    people = [retention.PersonActivity(str(p), at.date(), claimed) for p, at, claimed in repository.activity(session)]
    return retention.due(people, rules, today)


def apply_retention(
    session: Session, principal: Principal, rules: retention.Rules, today: date, *, dry_run: bool
) -> RetentionReport:
    due = plan(session, rules, today)
    report = RetentionReport(due, dry_run)
    cutoff = datetime.combine(retention.add_years(today, -rules.period("operational")), time(), UTC)
    report.operational = repository.operational(session, cutoff, apply=not dry_run)
    if dry_run:
        return report
    now = utcnow()
    for start in range(0, len(due), BATCH):
        chunk = due[start : start + BATCH]
        persons = repository.merged_into(session, [uuid.UUID(d.person_id) for d in chunk])
        for table, n in repository.anonymise(session, persons, now).items():
            report.counts[table] = report.counts.get(table, 0) + n
        for d in chunk:
            audit.record(
                session,
                principal,
                "retention.anonymise",
                record_type="person",
                record_id=d.person_id,
                details={"kind": d.kind, "due_on": d.due_on.isoformat()},
            )
    if any(report.operational.values()):
        audit.record(session, principal, "retention.operational", details=report.operational)
    return report


# -- subject access ---------------------------------------------------------------------------------------------------
def _plain(row: object, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {}
    for column in row.__table__.columns:  # type: ignore[attr-defined]
        if column.name in skip:
            continue
        value = getattr(row, column.key)
        out[column.name] = (
            value.isoformat()
            if hasattr(value, "isoformat")
            else (str(value) if isinstance(value, uuid.UUID) else value)
        )
    return out


def subject_access(session: Session, principal: Principal, person_id: uuid.UUID) -> dict[str, Any]:
    """Everything held about a person (and the records merged into them), for the data protection officer to
    review and send. Images and templates are listed, not included; who looked at the person is included."""
    person = current_person(session, person_id)
    persons = repository.merged_into(session, [person])
    encounters = repository.encounters_of(session, persons)
    if not encounters:
        raise NotFound(N_("No such person."), field="person_id")
    cases = repository.rows(session, ProtectionCase, ProtectionCase.person_id, persons)
    report: dict[str, Any] = {
        "person_id": str(person),
        "generated_at": utcnow().isoformat(),
        "person_ids": sorted(str(p) for p in persons),
        "registrations": [
            _plain(e, ("body_hash", "name_key")) for e in repository.rows(session, Encounter, Encounter.id, encounters)
        ],
        "documents": [_plain(d) for d in repository.rows(session, Document, Document.encounter_id, encounters)],
        "biometric_images": [
            _plain(s, ("image",))
            for s in repository.rows(session, BiometricSample, BiometricSample.encounter_id, encounters)
        ],
        "alerts": [_plain(a) for a in repository.rows(session, Alert, Alert.encounter_id, encounters)],
        "identity_decisions": [
            _plain(d) for d in repository.rows(session, IdentityDecision, IdentityDecision.person_id, persons)
        ],
        "contacts_named": [
            _plain(c) for c in repository.rows(session, TravelContact, TravelContact.encounter_id, encounters)
        ],
        "inspections": [
            _plain(i) for i in repository.rows(session, InspectionSubject, InspectionSubject.encounter_id, encounters)
        ],
        "protection_flags": [
            _plain(f) for f in repository.rows(session, ProtectionFlag, ProtectionFlag.person_id, persons)
        ],
        "trafficking_screenings": [
            _plain(t) for t in repository.rows(session, TraffickingScreening, TraffickingScreening.person_id, persons)
        ],
        "asylum_claims": [_plain(c) for c in repository.rows(session, AsylumClaim, AsylumClaim.person_id, persons)],
        "referrals": [_plain(r) for r in repository.rows(session, Referral, Referral.person_id, persons)],
        "cases": [_plain(c) for c in cases],
        "safe_conduct_passes": [
            _plain(p, ("token",)) for p in repository.rows(session, SafeConductPass, SafeConductPass.person_id, persons)
        ],
        "manifests": [_plain(m) for m in repository.rows(session, ManifestEntry, ManifestEntry.person_id, persons)],
        "pathway_referrals": [
            _plain(r) for r in repository.rows(session, PathwayReferral, PathwayReferral.person_id, persons)
        ],
        "accessed_by": [
            {
                "at": e.occurred_at.isoformat(),
                "actor": e.actor,
                "roles": e.roles,
                "action": e.action,
                "purpose": e.purpose,
            }
            for e in repository.audit_mentions(session, [str(p) for p in persons] + [str(e) for e in encounters])
        ],
    }
    # Case notes are listed by date and visibility; their text goes out only after the officer's review (third
    # parties are often named in them), which the report says.
    notes = repository.rows(session, CaseNote, CaseNote.case_id, [c.id for c in cases])
    report["case_notes"] = [
        {"case_id": str(n.case_id), "at": n.at.isoformat(), "visibility": n.visibility, "text": "withheld for review"}
        for n in notes
    ]
    audit.record(session, principal, "privacy.subject_access", record_type="person", record_id=person)
    return report


def subject_access_pdf(report: dict[str, Any]) -> bytes:
    doc = pdf.document(f"Subject access report {report['person_id']}")
    doc.set_font("helvetica", "B", 14)
    doc.cell(0, 8, "Subject access report / Informe de acceso", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=9)
    doc.multi_cell(0, 5, pdf.latin(f"Person {report['person_id']} - generated {report['generated_at']}"))
    for section, items in report.items():
        if not isinstance(items, list) or section == "person_ids":
            continue
        doc.ln(2)
        doc.set_font("helvetica", "B", 11)
        doc.cell(
            0, 7, pdf.latin(f"{section.replace('_', ' ').capitalize()} ({len(items)})"), new_x="LMARGIN", new_y="NEXT"
        )
        doc.set_font("helvetica", size=8)
        for item in items:
            text = "; ".join(f"{k}: {v}" for k, v in item.items() if v not in (None, "", [], {}))
            doc.multi_cell(0, 4, pdf.latin(text)[:1500])
            doc.ln(1)
    return pdf.output(doc)
