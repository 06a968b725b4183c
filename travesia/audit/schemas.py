from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from travesia.core.errors import N_

OUTCOME_LABELS = {"ok": N_("done"), "refused": N_("refused"), "failed": N_("failed")}


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_id: uuid.UUID
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor: str
    roles: str
    station: str | None
    via: str
    action: str
    outcome: str
    record_type: str | None
    record_id: str | None
    purpose: str | None
    details: str
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_before: int | None = Field(None, description="Pass as `before` to read the next (older) page.")


class AuditFilter(BaseModel):
    action: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=100)
    record_type: str | None = Field(None, max_length=64)
    record_id: str | None = Field(None, max_length=64)
    before: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=500)


class Anchor(BaseModel):
    seq: int
    hash: str
    occurred_at: datetime | None
    exported_at: datetime


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    bad_event_id: str | None = None
    problem: str | None = None
    problem_code: str | None = None
