"""The only SQL of data protection: every person's last activity, the anonymisation of a person's personal data
across the domains, and everything held about a person for a subject-access report."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from travesia.models import (
    Alert,
    AsylumClaim,
    AuditEvent,
    BiometricCandidate,
    BiometricIndexState,
    BiometricSample,
    BiometricTemplate,
    CaseNote,
    Document,
    Encounter,
    IdentityDecision,
    ManifestEntry,
    NetworkCluster,
    PathwayReferral,
    Person,
    ProtectionCase,
    ProtectionFlag,
    Referral,
    SafeConductPass,
    TraffickingScreening,
    TravelContact,
)


def activity(session: Session) -> list[tuple[uuid.UUID, datetime, bool]]:
    """(person, last activity, ever claimed asylum) for every person not yet anonymised nor merged away."""
    last = dict(
        session.execute(
            select(Encounter.person_id, func.max(Encounter.occurred_at)).group_by(Encounter.person_id)
        ).all()
    )
    for person, at in session.execute(
        select(AsylumClaim.person_id, func.max(AsylumClaim.updated_at)).group_by(AsylumClaim.person_id)
    ):
        last[person] = max(last.get(person, at), at)
    for person, at in session.execute(
        select(ProtectionCase.person_id, func.max(ProtectionCase.opened_at)).group_by(ProtectionCase.person_id)
    ):
        last[person] = max(last.get(person, at), at)
    claimed = set(session.execute(select(AsylumClaim.person_id).distinct()).scalars())
    live = set(
        session.execute(
            select(Person.id).where(Person.anonymised_at.is_(None), Person.merged_into_id.is_(None))
        ).scalars()
    )
    return [(p, at, p in claimed) for p, at in last.items() if p in live]


def merged_into(session: Session, person_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The persons and every person merged into them (their records go with them)."""
    found, frontier = set(person_ids), set(person_ids)
    while frontier:
        frontier = set(session.execute(select(Person.id).where(Person.merged_into_id.in_(frontier))).scalars()) - found
        found |= frontier
    return list(found)


def encounters_of(session: Session, person_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    stmt = select(Encounter.id).where(
        or_(Encounter.person_id.in_(person_ids), Encounter.registered_person_id.in_(person_ids))
    )
    return list(session.execute(stmt).scalars())


def anonymise(session: Session, person_ids: list[uuid.UUID], at: datetime) -> dict[str, int]:
    """Remove the personal data of these persons; keep what statistics need (sex, birth year, nationality,
    station, dates, route) under the pseudonymous ids. Returns rows touched per table."""
    encounters = encounters_of(session, person_ids)
    counts: dict[str, int] = {}

    def run(name: str, statement: object) -> None:
        counts[name] = int(session.execute(statement).rowcount or 0)  # type: ignore[call-overload]

    samples = select(BiometricSample.id).where(BiometricSample.encounter_id.in_(encounters))
    modalities = set(
        session.execute(
            select(BiometricTemplate.modality).where(BiometricTemplate.subject_id.in_(encounters))
        ).scalars()
    )
    run(
        "biometric_templates",
        delete(BiometricTemplate).where(
            or_(BiometricTemplate.subject_id.in_(encounters), BiometricTemplate.sample_id.in_(samples))
        ),
    )
    run(
        "biometric_candidates",
        delete(BiometricCandidate).where(
            or_(BiometricCandidate.encounter_id.in_(encounters), BiometricCandidate.candidate_id.in_(encounters))
        ),
    )
    run("biometric_samples", delete(BiometricSample).where(BiometricSample.encounter_id.in_(encounters)))
    if modalities:  # the in-process indexes rebuild without them
        session.execute(
            update(BiometricIndexState)
            .where(BiometricIndexState.modality.in_(modalities))
            .values(generation=BiometricIndexState.generation + 1)
        )
    run("documents", delete(Document).where(Document.encounter_id.in_(encounters)))
    run("travel_contacts", delete(TravelContact).where(TravelContact.encounter_id.in_(encounters)))
    run(
        "encounters",
        update(Encounter)
        .where(Encounter.id.in_(encounters))
        .values(
            given_names="",
            surnames="-",
            name_key="",
            phone=None,
            email=None,
            notes=None,
            birth_month=None,
            birth_day=None,
            biometric_exemptions=[],
        ),
    )
    run(
        "alerts",
        update(Alert)
        .where(Alert.encounter_id.in_(encounters))
        .values(explanation=[], reason=None, proposed_reason=None),
    )
    run(
        "identity_decisions",
        update(IdentityDecision)
        .where(or_(IdentityDecision.person_id.in_(person_ids), IdentityDecision.from_person_id.in_(person_ids)))
        .values(evidence=[], reason=""),
    )
    run(
        "protection_flags",
        update(ProtectionFlag).where(ProtectionFlag.person_id.in_(person_ids)).values(details={}, close_reason=None),
    )
    run(
        "trafficking_screenings",
        update(TraffickingScreening).where(TraffickingScreening.person_id.in_(person_ids)).values(answers={}),
    )
    cases = select(ProtectionCase.id).where(ProtectionCase.person_id.in_(person_ids))
    run("protection_case_notes", update(CaseNote).where(CaseNote.case_id.in_(cases)).values(text=""))
    run(
        "protection_cases",
        update(ProtectionCase).where(ProtectionCase.person_id.in_(person_ids)).values(close_reason=None),
    )
    run("protection_referrals", update(Referral).where(Referral.person_id.in_(person_ids)).values(outcome=None))
    run(
        "safe_conduct_passes",
        update(SafeConductPass).where(SafeConductPass.person_id.in_(person_ids)).values(token="", revoke_reason=None),
    )
    run("manifest_entries", update(ManifestEntry).where(ManifestEntry.person_id.in_(person_ids)).values(note=None))
    run(
        "pathway_referrals",
        update(PathwayReferral).where(PathwayReferral.person_id.in_(person_ids)).values(declared={}),
    )
    run("persons", update(Person).where(Person.id.in_(person_ids)).values(anonymised_at=at))
    return counts


# -- subject access ---------------------------------------------------------------------------------------------------
def rows(session: Session, model: type, column: object, ids: Sequence[object]) -> list[object]:
    return list(session.execute(select(model).where(column.in_(list(ids)))).scalars())  # type: ignore[attr-defined]


def audit_mentions(session: Session, ids: Sequence[str], limit: int = 5000) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.record_id.in_(list(ids))).order_by(AuditEvent.seq).limit(limit)
    return list(session.execute(stmt).scalars())


def operational(session: Session, before: datetime, *, apply: bool) -> dict[str, int]:
    """Operational records older than ``before`` that never became a case: dismissed alerts (their explanation,
    which quotes names), trafficking screenings that found nothing (their answers), superseded network flags
    (their member lists). Counted, and cleared when ``apply``."""
    targets = {
        "alerts_dismissed": (
            Alert,
            (Alert.state == "dismissed", Alert.decided_at < before),
            {"explanation": [], "reason": None},
        ),
        "screenings_none": (
            TraffickingScreening,
            (
                TraffickingScreening.outcome == "none",
                TraffickingScreening.at < before,
                cast(TraffickingScreening.answers, String) != "{}",
            ),
            {"answers": {}},
        ),
        "network_flags_superseded": (
            NetworkCluster,
            (NetworkCluster.state == "superseded", NetworkCluster.run_at < before, NetworkCluster.size > 0),
            {"person_ids": [], "size": 0},
        ),
    }
    counts = {}
    for name, (model, where, values) in targets.items():
        if apply:
            counts[name] = int(session.execute(update(model).where(*where).values(**values)).rowcount or 0)  # type: ignore[arg-type]
        else:
            counts[name] = int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())
    return counts
