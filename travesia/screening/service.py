"""Screening one encounter after it is stored (and after its biometric step): its names and documents against the
lists, its biometric candidates, lost documents and the usurpation rules, each finding an alert. The worker jobs
that drive it are ``jobs``; the yente-compatible match is ``matching``; the review of alerts is ``review``.

Nothing here decides anything about a person. An alert is evidence for an analyst; confirming one needs a second
analyst; the registration officer sees only that a review is pending."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, NotFound
from travesia.core.principal import cli_principal
from travesia.enrolment import reads as enrolment_reads
from travesia.enrolment import rules as enrolment_rules
from travesia.models import (
    Alert,
    BiometricCandidate,
    Document,
    Encounter,
    Screening,
    Watchlist,
)
from travesia.screening import formats, repository, review, scoring
from travesia.screening.index import CandidateIndex

SYSTEM = cli_principal("screening-step")
RETRIEVE = 200
# bits of calibrated biometric evidence that make "the same biometrics": biometrics.evidence.MATCH_BITS, which this
# sibling domain may not import (tests/biometrics/test_evidence.py checks they agree)
BIOMETRIC_MATCH = 10.0
SAME_PERSON_NAME = ("exact", "strong", "close", "subset", "script_strong", "script_close", "script_fair")
DIFFERENT_BIRTH = ("different", "different_year")


@dataclass
class Screener:
    """Per process: one candidate index per persons list, kept in step with the database by version number."""

    indexes: dict[uuid.UUID, CandidateIndex] = field(default_factory=dict)
    loaded: dict[uuid.UUID, int] = field(default_factory=dict)
    lists: dict[uuid.UUID, Watchlist] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sync(session: Session, screener: Screener) -> None:
    """Load what changed since the index's version: added and changed entries replace, removed ones go."""
    with screener.lock:
        for wl in repository.watchlists(session, "persons"):
            session.expunge(wl)
            screener.lists[wl.id] = wl
            index = screener.indexes.setdefault(wl.id, CandidateIndex())
            after = screener.loaded.get(wl.id, 0)
            if wl.version <= after:
                continue
            for entry in repository.entries_changed_since(session, wl.id, after):
                if entry.removed_version is not None:
                    index.remove(str(entry.id))
                else:
                    index.add(formats.entry_record(str(entry.id), entry.properties))
            screener.loaded[wl.id] = wl.version


# -- screening one encounter -------------------------------------------------------------------------------------
def encounter_record(encounter: Encounter, documents: list[Document]) -> scoring.Record:
    born = str(encounter.birth_year)
    if encounter.birth_precision in ("month", "day") and encounter.birth_month:
        born += f"-{encounter.birth_month:02d}"
        if encounter.birth_precision == "day" and encounter.birth_day:
            born += f"-{encounter.birth_day:02d}"
    return formats.claimed_record(
        str(encounter.id),
        encounter.given_names,
        encounter.surnames,
        sex=encounter.sex,
        birth_date=born,
        birth_estimated=encounter.birth_estimated,
        nationality=encounter.nationality,
        documents=[(d.number, d.issuing_state) for d in documents],
    )


@dataclass
class Finding:
    kind: str
    counterpart: str
    score: float
    priority: int
    explanation: list[dict[str, object]]
    entry_id: uuid.UUID | None = None
    other_encounter_id: uuid.UUID | None = None


def watchlist_findings(
    screener: Screener,
    query: scoring.Record,
    biometric: Evidence,
    lists: Iterable[uuid.UUID] | None = None,
    retrieve: int = RETRIEVE,
) -> list[tuple[Watchlist, scoring.Scored]]:
    """Every candidate over its list's threshold, scored with the biographic fields and any face or fingerprint
    comparison the biometric step made against the entry."""
    out = []
    for list_id in lists or list(screener.indexes):
        index, wl = screener.indexes[list_id], screener.lists[list_id]
        candidates = {c.id: c for c in index.search(query, retrieve)}
        for entry_id in biometric:
            record = index.get(entry_id)
            if record is not None:
                candidates.setdefault(entry_id, record)
        for candidate in candidates.values():
            scored = scoring.score(
                query, candidate, biometric=biometric.get(candidate.id, ()), name_count=index.name_count
            )
            if scored.probability >= wl.threshold:
                out.append((wl, scored))
    return out


Evidence = dict[str, list[dict[str, object]]]  # entry id → the biometric step's calibrated terms against it


def biometric_evidence(candidates: Iterable[BiometricCandidate]) -> dict[uuid.UUID, Evidence]:
    """Per registration, the biometric step's calibrated terms (bits per modality) against each watchlist entry it
    found: the fused candidate's stored evidence, the same numbers identity resolution weighs."""
    out: dict[uuid.UUID, Evidence] = {}
    for c in candidates:
        if c.candidate_kind == "watchlist" and c.modality == "fused" and c.evidence:
            out.setdefault(c.encounter_id, {})[str(c.candidate_id)] = list(c.evidence.get("terms", []))
    return out


def priority_of(wl: Watchlist, probability: float) -> int:
    """The finding's own urgency: a secret list's entry or a near-certain match is urgent (1), the rest normal (2)."""
    return 1 if wl.sensitivity == "secret" or probability >= 0.95 else 2


def alert_priority(urgency: int, vulnerable: bool) -> int:
    """The queue's order: urgency first, then the person's vulnerability (a child is not left waiting at a station
    while their alert sits behind an adult's): 1 urgent + vulnerable, 2 urgent, 3 vulnerable, 4 the rest."""
    return 2 * urgency - (1 if vulnerable else 0)


def vulnerable(encounter: Encounter) -> bool:
    """A child at registration (the vulnerability every registration records; protection flags come later)."""
    age = enrolment_rules.age_on(encounter.birth_year, encounter.birth_month, encounter.birth_day,
                                 encounter.occurred_at.date())  # fmt: skip
    return age < enrolment_rules.ADULT_AGE


def screen_encounter(session: Session, screener: Screener, encounter_id: uuid.UUID) -> Screening:
    """The write half of the step, in the caller's transaction: findings into alerts (idempotent), the outcome,
    the audit event (counts only)."""
    encounter = repository.encounter(session, encounter_id)
    if encounter is None:
        raise NotFound(N_("No registration with this id."), field="encounter_id")
    documents = enrolment_reads.documents_of(session, [encounter_id]).get(encounter_id, [])
    query = encounter_record(encounter, documents)
    candidates = repository.biometric_candidates(session, encounter_id)
    biometric = biometric_evidence(candidates).get(encounter_id, {})
    findings = [
        Finding(
            "watchlist",
            scored.candidate_id,
            scored.probability,
            priority_of(wl, scored.probability),
            [{"list": wl.name}, *scored.explanation()],
            entry_id=uuid.UUID(scored.candidate_id),
        )
        for wl, scored in watchlist_findings(screener, query, biometric)
    ]
    findings += lost_document_findings(session, documents)
    findings += usurpation_findings(session, encounter, documents, candidates, query)
    raised = raise_alerts(session, encounter_id, findings)
    state = repository.screening(session, encounter_id) or Screening(encounter_id=encounter_id)
    state.status, state.next_attempt_at, state.screened_at = "done", None, utcnow()
    state.candidates = len(findings)
    repository.add(session, state)
    session.flush()
    review.settle_outcome(session, encounter_id)
    audit.record(
        session,
        SYSTEM,
        "screening.run",
        record_type="encounter",
        record_id=encounter_id,
        details={"findings": len(findings), "new_alerts": raised, "outcome": state.outcome},
    )
    return state


def lost_document_findings(session: Session, documents: list[Document]) -> list[Finding]:
    keys = {scoring.document_key(d.number): d for d in documents}
    out = []
    for entry, wl in repository.lost_documents(session, keys):
        doc = keys[entry.document_key or ""]
        if entry.document_state and doc.issuing_state and entry.document_state != doc.issuing_state:
            continue
        explanation = [
            {"list": wl.name},
            {"feature": "document", "level": "reported_lost", "query": doc.number, "candidate": entry.caption},
        ]
        out.append(Finding("lost_document", str(entry.id), 1.0, 1, explanation, entry_id=entry.id))
    return out


def usurpation_findings(
    session: Session,
    encounter: Encounter,
    documents: list[Document],
    candidates: Iterable[BiometricCandidate],
    query: scoring.Record,
) -> list[Finding]:
    """Identity usurpation: the same biometrics under a different claimed identity; the same document, or the
    same name and birth date, claimed by a different face."""
    out: list[Finding] = []
    fused = {c.candidate_id: c.score for c in candidates if c.candidate_kind == "encounter" and c.modality == "fused"}
    matching = {other for other, score in fused.items() if score > BIOMETRIC_MATCH}
    others = repository.encounters(session, matching)
    docs = enrolment_reads.documents_of(session, others)
    for other in others.values():
        record = encounter_record(other, docs.get(other.id, []))
        levels, _, _ = scoring.levels(query, record)
        if levels["name"] not in SAME_PERSON_NAME or levels["birth"] in DIFFERENT_BIRTH:
            explanation = [
                {"feature": "biometrics", "level": "match", "bits": round(fused[other.id], 2)},
                {"feature": "name", "level": levels["name"], "query": query.names[0], "candidate": record.names[0]},
                {"feature": "birth", "level": levels["birth"]},
            ]
            out.append(Finding("same_biometrics", str(other.id), 1.0, 2, explanation, other_encounter_id=other.id))
    shared_docs = {d.encounter_id: d for d in repository.same_document(session, encounter.id, documents)}
    namesakes = {e.id: e for e in repository.same_identity(session, encounter)}
    pool = repository.encounters(session, set(shared_docs) - set(namesakes)) | namesakes
    with_face = repository.has_face(session, [encounter.id, *pool])
    for other in pool.values():
        if other.person_id == encounter.person_id or other.id in matching:
            continue
        different_face = encounter.id in with_face and other.id in with_face
        record = encounter_record(other, [])
        levels, _, _ = scoring.levels(query, record)
        if other.id in shared_docs and (different_face or levels["name"] not in SAME_PERSON_NAME):
            doc = shared_docs[other.id]
            explanation = [
                {"feature": "document", "level": "same", "query": doc.number, "candidate": doc.number},
                {"feature": "name", "level": levels["name"], "query": query.names[0], "candidate": record.names[0]},
                {"feature": "biometrics", "level": "different" if different_face else "not compared"},
            ]
            out.append(Finding("same_document", str(other.id), 1.0, 2, explanation, other_encounter_id=other.id))
        elif other.id in namesakes and different_face:
            explanation = [
                {"feature": "name", "level": "exact", "query": query.names[0], "candidate": record.names[0]},
                {"feature": "birth", "level": "same_date"},
                {"feature": "biometrics", "level": "different"},
            ]
            out.append(Finding("same_identity", str(other.id), 1.0, 2, explanation, other_encounter_id=other.id))
    return out


def raise_alerts(session: Session, encounter_id: uuid.UUID, findings: list[Finding]) -> int:
    """New alerts for findings not raised before (a retry or a re-screening adds nothing twice)."""
    keyed = {f"{f.kind}:{encounter_id}:{f.counterpart}": f for f in findings}
    known = repository.alert_keys(session, keyed)
    encounter = repository.encounter(session, encounter_id) if len(known) < len(keyed) else None
    child = encounter is not None and vulnerable(encounter)
    new = [
        Alert(
            dedupe_key=key,
            encounter_id=encounter_id,
            kind=f.kind,
            entry_id=f.entry_id,
            other_encounter_id=f.other_encounter_id,
            score=f.score,
            priority=alert_priority(f.priority, child),
            explanation=f.explanation,
        )
        for key, f in keyed.items()
        if key not in known
    ]
    repository.add(session, *new)
    return len(new)
