"""An encounter's biometric results, as the officer's page and the API show them: each sample's status and quality,
the candidates found and the region's people who agree. A read, nothing decided."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.biometrics import evidence, repository
from travesia.biometrics.schemas import CandidateOut, EncounterBiometricsOut, RegionMatchOut, SampleOut
from travesia.core.errors import N_, NotFound
from travesia.core.permissions import Perm, allows
from travesia.core.principal import Principal
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules


def of_encounter(session: Session, principal: Principal, encounter_id: uuid.UUID) -> EncounterBiometricsOut:
    """Each sample's status and quality, and the candidates found (evidence, not a decision)."""
    encounter = enrolment.encounter(session, encounter_id, principal)
    if encounter is None:
        raise NotFound(N_("No such registration."), field="encounter_id")
    samples = repository.samples_of(session, encounter_id)
    found = repository.candidates(session, encounter_id)
    if not allows(principal.roles, Perm.ALERTS_REVIEW):  # a watchlist entry found is for those who review alerts
        found = [c for c in found if c.candidate_kind != "watchlist"]
    persons = repository.persons_of(session, [c.candidate_id for c in found if c.candidate_kind == "encounter"])
    agreeing = {
        c.candidate_id: c.score
        for c in found
        if c.candidate_kind == "region" and c.modality == "fused" and c.score >= evidence.MATCH_BITS
    }
    region = [
        RegionMatchOut(
            **{name: getattr(row, name) for name in RegionMatchOut.model_fields if name != "score"},
            score=agreeing[row.person_id],
        )
        for row in repository.region_persons(session, list(agreeing))
    ]
    fingers = [s.finger_position for s in samples if s.modality == "finger" and s.status in ("pending", "done")]
    exemptions = encounter.biometric_exemptions or []
    return EncounterBiometricsOut(
        consent=encounter.biometric_consent,
        exemptions=exemptions,
        samples=[
            SampleOut(
                id=s.id,
                modality=s.modality,
                finger_position=s.finger_position,
                status=s.status,
                quality=s.quality,
                problems=s.problems or [],
                attempts=s.attempts,
            )
            for s in samples
        ],
        candidates=[
            CandidateOut(
                modality=c.modality,
                rank=c.rank,
                kind=c.candidate_kind,
                id=c.candidate_id,
                person_id=persons.get(c.candidate_id),
                score=c.score,
                evidence=(c.evidence or {}).get("terms", []),
            )
            for c in found
        ],
        region=sorted(region, key=lambda r: -r.score),
        fingers_missing=enrolment_rules.minimum_missing(fingers, exemptions) if fingers else [],  # type: ignore[arg-type]
    )
