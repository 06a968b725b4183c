"""Templates that come from outside this station's own enrolments: the faces and fingers of a partner's
watchlist file (searched against everyone enrolled), and a field station's copy of its region's templates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from travesia.biometrics import repository, search, service
from travesia.models import BiometricCandidate, BiometricTemplate


# -- watchlist entries' images (a partner's file) ----------------------------------------------------------------
def store_watchlist_templates(
    session: Session,
    bio: service.Biometrics,
    extracted: dict[uuid.UUID, list[service.Extracted]],
    gone: list[uuid.UUID],
) -> int:
    """The templates of watchlist entries' images, extracted beforehand (outside any write), replacing what those
    entries had; the templates of entries no longer on their list go too. A new registration's biometric step then
    finds the listed person (a ``watchlist`` candidate, which screening turns into an alert for review)."""
    for modality in sorted(repository.delete_templates(session, "watchlist", [*extracted, *gone])):
        repository.bump_generation(session, modality)
    repository.delete_candidates_of(session, "watchlist", [*extracted, *gone])
    rows = [
        service.template_row(bio, "watchlist", entry_id, item, None)
        for entry_id, items in extracted.items()
        for item in items
        if item.template
    ]
    repository.add(session, *rows)
    _candidates_for_entries(session, bio, extracted)
    return len(rows)


def _candidates_for_entries(
    session: Session, bio: service.Biometrics, extracted: dict[uuid.UUID, list[service.Extracted]]
) -> None:
    """Registrations enrolled before the entries arrived, whose face or fingers agree with an entry's beyond the
    thresholds, get the entry as a candidate (what an earlier import of the entry left is gone), so that
    re-screening the list version weighs the biometric evidence as the step would for a new registration."""
    service.sync(session, bio)
    rows = []
    for entry_id, items in extracted.items():
        found = search.search_candidates(session, bio, items, exclude=None)
        agreeing: set[uuid.UUID] = set()
        for modality in ("face", "finger"):
            ranked = [
                (subject, score)
                for (kind, subject), score in found.ranked.get(modality, [])
                if kind == "encounter" and _agrees(bio, modality, score)
            ]
            agreeing.update(subject for subject, _ in ranked)
            rows += [_row(subject, modality, entry_id, score, rank) for rank, (subject, score) in enumerate(ranked, 1)]
        # the calibrated evidence of each registration that agrees in a modality: what screening weighs
        fused = sorted(((s, found.evidence[("encounter", s)]) for s in agreeing), key=lambda kv: -kv[1].total)
        rows += [
            _row(subject, "fused", entry_id, weighed.total, rank, weighed.as_json())
            for rank, (subject, weighed) in enumerate(fused, 1)
        ]
    repository.add(session, *rows)


def _row(
    encounter_id: uuid.UUID,
    modality: str,
    entry_id: uuid.UUID,
    score: float,
    rank: int,
    evidence: dict[str, object] | None = None,
) -> BiometricCandidate:
    return BiometricCandidate(
        encounter_id=encounter_id,
        modality=modality,
        candidate_kind="watchlist",
        candidate_id=entry_id,
        score=score,
        rank=rank,
        evidence=evidence,
    )


def _agrees(bio: service.Biometrics, modality: str, score: float) -> bool:
    return score <= bio.face_threshold if modality == "face" else score >= bio.finger_threshold


# -- a field station's copy of its region's templates ---------------------------------------------------------
@dataclass(frozen=True)
class RegionTemplate:
    """A template central made of a person registered elsewhere in the station's region."""

    person_id: uuid.UUID
    modality: str
    position: int | None
    algorithm: str
    version: str
    quality: int
    template: bytes


def store_region_templates(session: Session, bio: service.Biometrics, items: list[RegionTemplate]) -> int:
    """Seal them under this station's keys as ``region`` templates (the indexes pick them up at the next search).
    A template of another algorithm or version than this station's cannot be compared with its probes: skipped."""
    rows = []
    for item in items:
        if bio.algorithms.get(item.modality) != (item.algorithm, item.version):
            continue
        row = BiometricTemplate(
            subject_kind="region",
            subject_id=item.person_id,
            modality=item.modality,
            finger_position=item.position,
            algorithm=item.algorithm,
            version=item.version,
            quality=item.quality,
            quality_reasons=[],
        )
        service.seal(bio, row, item.template)
        rows.append(row)
    repository.add(session, *rows)
    return len(rows)


def forget_region_persons(session: Session, person_ids: list[uuid.UUID]) -> None:
    """Delete their templates; the indexes that held some rebuild (a generation bump) before the next search."""
    if not person_ids:
        return
    for modality in sorted(repository.delete_templates(session, "region", person_ids)):
        repository.bump_generation(session, modality)
