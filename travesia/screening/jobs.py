"""The screening step as worker jobs run it: pending encounters in short write transactions with retries and
back-off, and re-screening everyone enrolled after a list version. These take a ``Database`` and commit, per
batch; everything they screen goes through ``service.screen_encounter``."""

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import Database, utcnow
from travesia.core.errors import N_, NotFound
from travesia.core.logging import get_logger
from travesia.enrolment import reads as enrolment_reads
from travesia.models import (
    Watchlist,
)
from travesia.screening import formats, repository, review, scoring, service
from travesia.screening.index import CandidateIndex

log = get_logger("travesia.screening")
LEASE = timedelta(minutes=5)
# Encounters screened per write transaction in a worker: fewer commits than one each, yet short enough (about
# 100 ms) that a request waiting for the write lock behind it is not kept long.
PER_TRANSACTION = 8
ATTEMPTS = 8


# -- the step, with retries ----------------------------------------------------------------------------------------
def run_pending(
    db: Database,
    screener: service.Screener,
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
            service.sync(session, screener)
            now = utcnow()
            due = [e for e in due if repository.claim(session, e, now, now + lease)]
    for start in range(0, len(due), per_transaction):
        failed = []
        with db.transaction() as session:
            for encounter_id in due[start : start + per_transaction]:
                try:
                    with session.begin_nested():
                        service.screen_encounter(session, screener, encounter_id)
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


def rescreen_version(db: Database, screener: service.Screener, version_id: uuid.UUID, batch: int = 200) -> int:
    """Every enrolled encounter against what one list version added or changed (a small index of just those
    entries), and every document against a documents list's new entries. Returns the alerts raised."""
    with db.transaction(readonly=True) as session:
        version = repository.version(session, version_id)
        if version is None:
            raise NotFound(N_("No such list version."), field="version")
        wl = session.get(Watchlist, version.watchlist_id)
        assert wl is not None
        changed = repository.entries_of_version(session, wl.id, version.number)
        # a partner's images of these entries found earlier registrations (exchange.imports.import_nist): weigh that too
        evidence = service.biometric_evidence(repository.watchlist_candidates(session, [e.id for e in changed]))
        session.expunge(wl)
        small = CandidateIndex()
        small.add_all(formats.entry_record(str(e.id), e.properties) for e in changed)
        doc_keys = {e.document_key for e in changed if e.document_key}
    raised, after = 0, None
    local = service.Screener({wl.id: small}, {wl.id: wl.version}, {wl.id: wl})
    while changed:
        with db.transaction() as session:
            page = repository.encounters_after(session, after, batch)
            if not page:
                break
            after = page[-1].id
            docs = enrolment_reads.documents_of(session, [e.id for e in page])
            for encounter in page:
                findings: list[service.Finding] = []
                if wl.kind == "persons":
                    query = service.encounter_record(encounter, docs.get(encounter.id, []))
                    findings = [
                        service.Finding(
                            "watchlist",
                            s.candidate_id,
                            s.probability,
                            service.priority_of(wl, s.probability),
                            [{"list": wl.name}, *s.explanation()],
                            entry_id=uuid.UUID(s.candidate_id),
                        )
                        for _, s in service.watchlist_findings(
                            local, query, evidence.get(encounter.id, {}), retrieve=50
                        )
                    ]
                elif any(scoring.document_key(d.number) in doc_keys for d in docs.get(encounter.id, [])):
                    findings = service.lost_document_findings(session, docs.get(encounter.id, []))
                new = service.raise_alerts(session, encounter.id, findings) if findings else 0
                if new:
                    raised += new
                    session.flush()
                    review.settle_outcome(session, encounter.id)
    with db.transaction() as session:
        version = repository.version(session, version_id)
        assert version is not None
        version.rescreened_at, version.rescreened = utcnow(), raised
        audit.record(
            session,
            service.SYSTEM,
            "watchlist.rescreen",
            record_type="watchlist",
            record_id=version.watchlist_id,
            details={"version": version.number, "entries": len(changed), "new_alerts": raised},
        )
    return raised


def rescreen_pending(db: Database, screener: service.Screener) -> int:
    with db.transaction(readonly=True) as session:
        pending = [v.id for v in repository.unrescreened_versions(session)]
    return sum(rescreen_version(db, screener, v) for v in pending)
