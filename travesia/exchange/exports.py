"""Bulk exports under an agreement: a partner's request or an officer's, run by a worker (it takes a Database and
commits), written as ANSI/NIST-ITL or JSON lines with only the agreed fields."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import Database, utcnow
from travesia.core.errors import N_, Conflict, InvalidInput
from travesia.core.principal import Principal
from travesia.exchange import nist, repository, service
from travesia.exchange.records import PersonRecord, to_json
from travesia.exchange.schemas import ExportIn
from travesia.models import ExportJob, SharingAgreement
from travesia.stations import service as stations


# -- bulk exports ------------------------------------------------------------------------------------------------
def partner_export(session: Session, partner: service.Partner, data: ExportIn) -> ExportJob:
    """A partner's bulk export job: counted against the agreement's rate, then checked and queued as any other."""
    agreement = repository.agreement(session, partner.agreement_id)
    assert agreement is not None
    service.allowed_terms(agreement, "export", data.purpose)
    service.count_request(session, partner, agreement, "export")
    return request_export(session, partner.principal, partner.agreement_id, data)


def request_export(session: Session, principal: Principal, agreement_id: uuid.UUID, data: ExportIn) -> ExportJob:
    agreement = repository.agreement(session, agreement_id)
    assert agreement is not None
    service.allowed_terms(agreement, "export", data.purpose)
    if data.station and stations.station_by_code(session, data.station) is None:
        raise InvalidInput(N_("Unknown station code: %(code)s"), field="station", code=data.station)
    job = ExportJob(
        agreement_id=agreement.id,
        requested_by=principal.username,
        purpose=data.purpose,
        format=data.format,
        criteria=data.model_dump(mode="json", exclude={"purpose", "format"}),
    )
    repository.add(session, job)
    session.flush()
    audit.record(
        session,
        principal,
        "exchange.export_request",
        record_type="export",
        record_id=job.id,
        purpose=data.purpose,
        details={"agreement": agreement.name, "format": data.format},
    )
    return job


def export_file(folder: Path, job_id: uuid.UUID, fmt: str) -> Path:
    return folder / "exports" / f"{job_id}.{'nist' if fmt == 'nist' else 'jsonl'}"


def run_export(db: Database, job_id: uuid.UUID, folder: Path) -> ExportJob:
    """Build the file of a queued job: the agreement is checked again when it runs (it may have lapsed since)."""
    with db.transaction() as session:
        job = repository.job(session, job_id)
        if job is None or job.state != "queued":
            raise Conflict(N_("This export is not waiting to run."), field="job")
        job.state = "running"
    try:
        with db.transaction() as session:
            job = repository.job(session, job_id)
            agreement = repository.agreement(session, job.agreement_id)  # type: ignore[union-attr]
            assert job is not None and agreement is not None
            terms = service.allowed_terms(agreement, "export", job.purpose)
            records = service.shared(
                service.person_records(session, _selection(session, job, agreement), terms.modalities), terms
            )
            path = export_file(folder, job.id, job.format)
            path.parent.mkdir(parents=True, exist_ok=True)
            body = _serialise(records, job)
            path.write_bytes(body)
            job.state, job.records, job.size = "done", len(records), len(body)
            job.sha256, job.finished_at = hashlib.sha256(body).hexdigest(), utcnow()
            audit.record(
                session,
                service.SYSTEM,
                "exchange.export",
                record_type="export",
                record_id=job.id,
                purpose=job.purpose,
                details={
                    "agreement": terms.name,
                    "records": len(records),
                    "fields": sorted(terms.fields),
                    "modalities": sorted(terms.modalities),
                    "sha256": job.sha256,
                },
            )
            return job
    except Exception as error:
        with db.transaction() as session:
            failed = repository.job(session, job_id)
            assert failed is not None
            failed.state, failed.finished_at = "failed", utcnow()
            failed.error = getattr(error, "message", None) or type(error).__name__
        raise


def _selection(session: Session, job: ExportJob, agreement: SharingAgreement) -> list[uuid.UUID]:
    c = job.criteria
    station = stations.station_by_code(session, str(c["station"])) if c.get("station") else None

    def day(value: object) -> datetime | None:
        return datetime.combine(datetime.fromisoformat(str(value)).date(), time(), UTC) if value else None

    to = day(c.get("registered_to"))
    return repository.persons_for_export(
        session,
        registered_from=day(c.get("registered_from")),
        registered_to=to + timedelta(days=1) if to else None,
        nationality=c.get("nationality"),
        station_id=station.id if station else None,  # type: ignore[arg-type]
        limit=agreement.max_records,
    )


def _serialise(records: list[PersonRecord], job: ExportJob) -> bytes:
    if job.format == "nist":
        today = utcnow().date()
        return nist.encode(records, agency=service.AGENCY, control=job.id.hex, destination="PARTNER", today=today)
    lines = []
    for r in records:
        item = to_json(r)
        if r.face is not None:
            item["face"] = {**item["face"], "data": base64.b64encode(r.face.data).decode()}  # type: ignore[dict-item]
        if r.fingers:
            item["fingers"] = {
                str(p): {"format": i.format, "data": base64.b64encode(i.data).decode()}
                for p, i in sorted(r.fingers.items())
            }
        lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode() if lines else b""
