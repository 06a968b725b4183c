"""The biometric step as worker jobs run it: due encounters claimed with a lease, each processed in its own
transactions, a failure retried later with back-off (the enrolment is never touched)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from travesia.biometrics import repository, service
from travesia.core.db import Database, utcnow
from travesia.models import BiometricCandidate

LEASE = timedelta(minutes=5)


# -- running the step, with retries ----------------------------------------------------------------------------
def run_pending(db: Database, bio: service.Biometrics, limit: int = 50, lease: timedelta = LEASE) -> dict[str, int]:
    """Process due encounters one by one, each in its own transaction; a failure is recorded for a later retry
    (exponential back-off) and the others go on."""
    counts = {"processed": 0, "failed": 0}
    with db.transaction() as session:
        due = repository.due_encounters(session, utcnow(), limit)
    for encounter_id in due:
        now = utcnow()
        with db.transaction() as session:
            if not repository.claim(session, encounter_id, now, now + lease):
                continue  # another worker took it
        try:
            process_encounter(db, bio, encounter_id)
            counts["processed"] += 1
        except Exception as exc:  # any failure of the step is retried; the enrolment stays
            counts["failed"] += 1
            service.log.warning(
                "biometric step failed", extra={"encounter": str(encounter_id), "error": type(exc).__name__}
            )
            with db.transaction() as session:
                attempts = max((s.attempts for s in repository.pending_samples(session, encounter_id)), default=1)
                retry_at = utcnow() + timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
                repository.set_retry(session, encounter_id, retry_at, bio.attempts)
    service.maybe_save(bio)
    return counts


def process_encounter(db: Database, bio: service.Biometrics, encounter_id: uuid.UUID) -> list[BiometricCandidate]:
    """Extract every pending sample of an encounter, search both indexes with what was usable, store the scored
    candidates and the templates. The slow parts (decoding, the models, bringing the indexes up to date) run
    outside the write transaction: on SQLite a writer holds the database's one write lock, and enrolments must not
    wait for a face model."""
    with db.transaction(readonly=True) as session:
        samples = [service.Capture.of(sample) for sample in repository.pending_samples(session, encounter_id)]
        service.sync(session, bio)
    extracted = [service.extract(sample, bio.face_model, second_stage=bio.second_stage) for sample in samples]
    with db.transaction() as session:
        return service.record(session, bio, encounter_id, extracted)
