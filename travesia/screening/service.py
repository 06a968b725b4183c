"""Screening use cases: lists and their versions, the pipeline step that screens an encounter after it is stored
(and after its biometric step), re-screening after a list changes, the yente-compatible match, and the review of
alerts by two people.

Nothing here decides anything about a person. An alert is evidence for an analyst; confirming one needs a second
analyst; the registration officer sees only that a review is pending."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import Database, utcnow
from travesia.core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from travesia.core.logging import get_logger
from travesia.core.principal import Principal, cli_principal
from travesia.models import (
    Alert,
    AlertReview,
    BiometricCandidate,
    Document,
    Encounter,
    Screening,
    Watchlist,
    WatchlistEntry,
)
from travesia.models.vocabulary import ACTIVE_ALERT_STATES
from travesia.screening import formats, repository, scoring
from travesia.screening.index import CandidateIndex
from travesia.screening.schemas import OUTCOME_LABELS, ReviewIn, ScreeningOutcomeOut

log = get_logger("travesia.screening")
SYSTEM = cli_principal("screening-step")
LEASE = timedelta(minutes=5)
# Encounters screened per write transaction in a worker: fewer commits than one each, yet short enough (about
# 100 ms) that a request waiting for the write lock behind it is not kept long.
PER_TRANSACTION = 8
ATTEMPTS = 8
RETRIEVE = 200
BIOMETRIC_MATCH = 0.0  # a fused biometric score above zero is above both modalities' thresholds
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
    biometric: dict[str, tuple[float | None, float | None]],
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
            face, finger = biometric.get(candidate.id, (None, None))
            scored = scoring.score(
                query, candidate, face_distance=face, finger_score=finger, name_count=index.name_count
            )
            if scored.probability >= wl.threshold:
                out.append((wl, scored))
    return out


Evidence = dict[str, tuple[float | None, float | None]]  # entry id → (face distance, finger score)


def biometric_evidence(candidates: Iterable[BiometricCandidate]) -> dict[uuid.UUID, Evidence]:
    """Per registration, the face and finger scores the biometric step found for each watchlist entry."""
    out: dict[uuid.UUID, Evidence] = {}
    for c in candidates:
        if c.candidate_kind == "watchlist" and c.modality in ("face", "finger"):
            evidence = out.setdefault(c.encounter_id, {})
            face, finger = evidence.get(str(c.candidate_id), (None, None))
            evidence[str(c.candidate_id)] = (c.score, finger) if c.modality == "face" else (face, c.score)
    return out


def _priority(wl: Watchlist, probability: float) -> int:
    return 1 if wl.sensitivity == "secret" or probability >= 0.95 else 2


def screen_encounter(session: Session, screener: Screener, encounter_id: uuid.UUID) -> Screening:
    """The write half of the step, in the caller's transaction: findings into alerts (idempotent), the outcome,
    the audit event (counts only)."""
    encounter = repository.encounter(session, encounter_id)
    if encounter is None:
        raise NotFound(N_("No registration with this id."), field="encounter_id")
    documents = repository.documents_of(session, [encounter_id]).get(encounter_id, [])
    query = encounter_record(encounter, documents)
    candidates = repository.biometric_candidates(session, encounter_id)
    biometric = biometric_evidence(candidates).get(encounter_id, {})
    findings = [
        Finding(
            "watchlist",
            scored.candidate_id,
            scored.probability,
            _priority(wl, scored.probability),
            [{"list": wl.name}, *scored.explanation()],
            entry_id=uuid.UUID(scored.candidate_id),
        )
        for wl, scored in watchlist_findings(screener, query, biometric)
    ]
    findings += lost_document_findings(session, documents)
    findings += usurpation_findings(session, encounter, documents, candidates, query)
    raised = _raise(session, encounter_id, findings)
    state = repository.screening(session, encounter_id) or Screening(encounter_id=encounter_id)
    state.status, state.next_attempt_at, state.screened_at = "done", None, utcnow()
    state.candidates = len(findings)
    repository.add(session, state)
    session.flush()
    _settle_outcome(session, encounter_id)
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
    docs = repository.documents_of(session, others)
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


def _raise(session: Session, encounter_id: uuid.UUID, findings: list[Finding]) -> int:
    """New alerts for findings not raised before (a retry or a re-screening adds nothing twice)."""
    keyed = {f"{f.kind}:{encounter_id}:{f.counterpart}": f for f in findings}
    known = repository.alert_keys(session, keyed)
    new = [
        Alert(
            dedupe_key=key,
            encounter_id=encounter_id,
            kind=f.kind,
            entry_id=f.entry_id,
            other_encounter_id=f.other_encounter_id,
            score=f.score,
            priority=f.priority,
            explanation=f.explanation,
        )
        for key, f in keyed.items()
        if key not in known
    ]
    repository.add(session, *new)
    return len(new)


# -- the step, with retries ----------------------------------------------------------------------------------------
def run_pending(
    db: Database,
    screener: Screener,
    limit: int = 100,
    then: Callable[[Session, uuid.UUID], object] | None = None,
    lease: timedelta = LEASE,
    per_transaction: int = PER_TRANSACTION,
) -> dict[str, int]:
    """Screen due encounters: claimed together (a lease, so that other workers leave them alone), then screened a
    few per transaction, each in a savepoint of its own, so that one failure is retried with back-off without
    touching the others or the enrolment. ``then`` is the pipeline's next steps for the encounter (identity,
    protection rules), in the same savepoint, so that they are retried together."""
    counts = {"screened": 0, "failed": 0}
    with db.transaction() as session:
        due = repository.due_screenings(session, utcnow(), limit)
        if due:
            sync(session, screener)
            now = utcnow()
            due = [e for e in due if repository.claim(session, e, now, now + lease)]
    for start in range(0, len(due), per_transaction):
        failed = []
        with db.transaction() as session:
            for encounter_id in due[start : start + per_transaction]:
                try:
                    with session.begin_nested():
                        screen_encounter(session, screener, encounter_id)
                        if then is not None:
                            then(session, encounter_id)
                    counts["screened"] += 1
                except Exception as exc:  # any failure is retried; the encounter stays stored
                    failed.append(encounter_id)
                    log.warning("screening failed", extra={"encounter": str(encounter_id), "error": type(exc).__name__})
        if failed:
            counts["failed"] += len(failed)
            _retry_later(db, failed)
    return counts


def _retry_later(db: Database, encounter_ids: list[uuid.UUID]) -> None:
    with db.transaction() as session:
        for encounter_id in encounter_ids:
            state = repository.screening(session, encounter_id)
            if state is not None:
                delay = min(30 * 2 ** max(state.attempts - 1, 0), 3600)
                state.next_attempt_at = utcnow() + timedelta(seconds=delay)
                if state.attempts >= ATTEMPTS:
                    state.status = "failed"


def rescreen_version(db: Database, screener: Screener, version_id: uuid.UUID, batch: int = 200) -> int:
    """Every enrolled encounter against what one list version added or changed (a small index of just those
    entries), and every document against a documents list's new entries. Returns the alerts raised."""
    with db.transaction(readonly=True) as session:
        version = repository.version(session, version_id)
        if version is None:
            raise NotFound(N_("No such list version."), field="version")
        wl = session.get(Watchlist, version.watchlist_id)
        assert wl is not None
        changed = repository.entries_of_version(session, wl.id, version.number)
        # a partner's images of these entries found earlier registrations (exchange.import_nist): weigh that too
        evidence = biometric_evidence(repository.watchlist_candidates(session, [e.id for e in changed]))
        session.expunge(wl)
        small = CandidateIndex()
        small.add_all(formats.entry_record(str(e.id), e.properties) for e in changed)
        doc_keys = {e.document_key for e in changed if e.document_key}
    raised, after = 0, None
    local = Screener({wl.id: small}, {wl.id: wl.version}, {wl.id: wl})
    while changed:
        with db.transaction() as session:
            page = repository.encounters_after(session, after, batch)
            if not page:
                break
            after = page[-1].id
            docs = repository.documents_of(session, [e.id for e in page])
            for encounter in page:
                findings: list[Finding] = []
                if wl.kind == "persons":
                    query = encounter_record(encounter, docs.get(encounter.id, []))
                    findings = [
                        Finding(
                            "watchlist",
                            s.candidate_id,
                            s.probability,
                            _priority(wl, s.probability),
                            [{"list": wl.name}, *s.explanation()],
                            entry_id=uuid.UUID(s.candidate_id),
                        )
                        for _, s in watchlist_findings(local, query, evidence.get(encounter.id, {}), retrieve=50)
                    ]
                elif any(scoring.document_key(d.number) in doc_keys for d in docs.get(encounter.id, [])):
                    findings = lost_document_findings(session, docs.get(encounter.id, []))
                new = _raise(session, encounter.id, findings) if findings else 0
                if new:
                    raised += new
                    session.flush()
                    _settle_outcome(session, encounter.id)
    with db.transaction() as session:
        version = repository.version(session, version_id)
        assert version is not None
        version.rescreened_at, version.rescreened = utcnow(), raised
        audit.record(
            session,
            SYSTEM,
            "watchlist.rescreen",
            record_type="watchlist",
            record_id=version.watchlist_id,
            details={"version": version.number, "entries": len(changed), "new_alerts": raised},
        )
    return raised


def rescreen_pending(db: Database, screener: Screener) -> int:
    with db.transaction(readonly=True) as session:
        pending = [v.id for v in repository.unrescreened_versions(session)]
    return sum(rescreen_version(db, screener, v) for v in pending)


# -- matching as yente does --------------------------------------------------------------------------------------
def query_record(query_id: str, properties: dict[str, list[str] | str]) -> scoring.Record:
    """A yente query's properties (FollowTheMoney names) as a Record; values checked by followthemoney."""
    props = {k: v if isinstance(v, list) else [v] for k, v in properties.items()}
    cleaned = formats.clean_entity(0, {"id": query_id, "schema": "Person", "properties": props}, "persons")
    if isinstance(cleaned, formats.Problem):
        raise InvalidInput(
            N_("Query %(id)s: %(problem)s"),
            field=f"queries.{query_id}.{cleaned.field}",
            id=query_id,
            problem=cleaned.message,
        )
    return formats.entry_record(query_id, cleaned.properties)


def match(
    session: Session,
    screener: Screener,
    principal: Principal,
    dataset: str,
    queries: dict[str, dict[str, list[str] | str]],
    *,
    limit: int = 5,
    threshold: float | None = None,
    algorithm: str = "travesia",
) -> dict[str, object]:
    wl = repository.watchlist_by_name(session, dataset)
    if wl is None or wl.kind != "persons":
        raise NotFound(N_("No persons list with this name."), field="dataset")
    if algorithm not in ("travesia", "logic-v2"):
        raise InvalidInput(N_("Unknown algorithm: use travesia or logic-v2."), field="algorithm")
    sync(session, screener)
    cut = threshold if threshold is not None else wl.threshold
    entries_by_id: dict[str, WatchlistEntry] = {}
    responses: dict[str, object] = {}
    for query_id, properties in queries.items():
        query = query_record(query_id, properties)
        index = screener.indexes[wl.id]
        scored = [scoring.score(query, c, name_count=index.name_count) for c in index.search(query, RETRIEVE)]
        if algorithm == "logic-v2":
            scored = _logic_v2(session, query, properties, scored, entries_by_id)
        scored.sort(key=lambda s: -s.probability)
        results = []
        for s in scored[:limit]:
            entry = entries_by_id.get(s.candidate_id) or repository.entry(session, uuid.UUID(s.candidate_id))
            assert entry is not None
            results.append(
                {
                    "id": entry.external_id,
                    "caption": entry.caption,
                    "schema": entry.schema,
                    "properties": entry.properties,
                    "datasets": [wl.name],
                    "score": s.probability,
                    "match": s.probability >= cut,
                    "features": {t.feature: round(t.bits, 3) for t in s.terms},
                    "explanations": {
                        t.feature: {
                            "detail": f"{t.level}: {t.query} ~ {t.candidate}".strip(),
                            "score": round(t.bits, 3),
                        }
                        for t in s.terms
                    },
                }
            )
        responses[query_id] = {
            "status": 200,
            "results": results,
            "total": {"value": len(results), "relation": "eq"},
            "query": {"id": query_id, "schema": "Person", "properties": properties},
        }
    audit.record(
        session,
        principal,
        "watchlist.match",
        record_type="watchlist",
        record_id=wl.id,
        details={"queries": len(queries), "algorithm": algorithm},
    )
    return {"responses": responses, "matcher": {"name": algorithm}, "limit": limit}


def _logic_v2(
    session: Session,
    query: scoring.Record,
    properties: dict[str, list[str] | str],
    scored: list[scoring.Scored],
    entries_by_id: dict[str, WatchlistEntry],
) -> list[scoring.Scored]:
    """OpenSanctions' own scorer on the same candidates, for comparison (slow: tens of comparisons a second with
    many aliases)."""
    from followthemoney import model as ftm
    from nomenklatura.matching import LogicV2
    from nomenklatura.matching.types import ScoringConfig

    q = ftm.get_proxy({"id": query.id, "schema": "Person", "properties": properties})
    out = []
    for s in scored:
        entry = repository.entry(session, uuid.UUID(s.candidate_id))
        assert entry is not None
        entries_by_id[s.candidate_id] = entry
        proxy = ftm.get_proxy({"id": str(entry.id), "schema": entry.schema, "properties": entry.properties})
        result = LogicV2.compare(q, proxy, ScoringConfig.defaults())
        terms = tuple(
            scoring.Term(name, (f.detail or "")[:120], f.score) for name, f in result.explanations.items() if f.score
        )
        out.append(scoring.Scored(s.candidate_id, round(result.score, 4), 0.0, terms, s.name))
    return out


# -- what the registration officer sees ----------------------------------------------------------------------------
def outcome(session: Session, encounter_id: uuid.UUID) -> ScreeningOutcomeOut:
    state = repository.screening(session, encounter_id)
    status = state.status if state else "pending"
    key = state.outcome if state and state.status == "done" and state.outcome else status
    return ScreeningOutcomeOut(status=status, outcome=state.outcome if state else None, label=OUTCOME_LABELS[key])


# -- review by two people ------------------------------------------------------------------------------------------
def get_alert(session: Session, principal: Principal, alert_id: uuid.UUID) -> Alert:
    alert = repository.alert(session, alert_id)
    if alert is None:
        raise NotFound(N_("No alert with this id."), field="alert_id")
    audit.record(session, principal, "alert.view", record_type="alert", record_id=alert_id)
    return alert


def review(session: Session, principal: Principal, alert_id: uuid.UUID, data: ReviewIn) -> Alert:
    """take: an analyst picks the alert up. propose: they propose to confirm it. confirm: a second analyst, not the
    proposer, agrees. return: the second analyst disagrees and sends it back. dismiss: not a match. Every step
    needs a reason except taking; each is kept and audited."""
    if principal.user_id is None:
        raise Forbidden(N_("Reviews are made by a named analyst, not from the console."), field="reviewer")
    alert = repository.alert(session, alert_id, lock=True)
    if alert is None:
        raise NotFound(N_("No alert with this id."), field="alert_id")
    reason = (data.reason or "").strip()
    if data.action != "take" and len(reason) < 3:
        raise InvalidInput(N_("Give the reason for this decision."), field="reason")
    if alert.state in ("confirmed", "dismissed"):
        raise Conflict(N_("This alert has been decided already."), field="action")
    me = principal.user_id
    if data.action == "take":
        alert.state, alert.assigned_to_id = "under_review", me
    elif data.action == "propose":
        if alert.proposed_by_id is not None:
            raise Conflict(N_("A confirmation has been proposed already; a second analyst decides."), field="action")
        alert.state, alert.proposed_by_id, alert.proposed_reason = "under_review", me, reason
        alert.assigned_to_id = alert.assigned_to_id or me
    elif data.action == "confirm":
        if alert.proposed_by_id is None:
            raise Conflict(N_("Confirming needs a proposal by a first analyst."), field="action")
        if alert.proposed_by_id == me:
            raise Forbidden(N_("A second analyst, not the one who proposed it, must confirm."), field="action")
        alert.state, alert.decided_by_id, alert.decided_at, alert.reason = "confirmed", me, utcnow(), reason
    elif data.action == "return":
        if alert.proposed_by_id is None or alert.proposed_by_id == me:
            raise Conflict(N_("Only a second analyst can send a proposal back."), field="action")
        alert.proposed_by_id, alert.proposed_reason = None, None
    elif data.action == "dismiss":
        alert.state, alert.decided_by_id, alert.decided_at, alert.reason = "dismissed", me, utcnow(), reason
    repository.add(session, AlertReview(alert_id=alert.id, reviewer_id=me, action=data.action, reason=reason or None))
    if alert.state in ("confirmed", "dismissed"):
        _settle_outcome(session, alert.encounter_id)
    session.flush()
    audit.record(
        session,
        principal,
        f"alert.{data.action}",
        record_type="alert",
        record_id=alert.id,
        details={"state": alert.state, "kind": alert.kind},
    )
    return alert


def _settle_outcome(session: Session, encounter_id: uuid.UUID) -> None:
    """The registration officer's view of a screened encounter: review pending while an alert is open or under
    review, clear otherwise (a confirmed alert is for the analysts' follow-up, not the officer's screen)."""
    state = repository.screening(session, encounter_id)
    pending = [a for a in repository.alerts_of(session, encounter_id) if a.state in ACTIVE_ALERT_STATES]
    if state is not None and state.status == "done":
        state.outcome = "review" if pending else "clear"
