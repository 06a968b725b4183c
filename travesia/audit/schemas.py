from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from travesia.core.errors import N_

OUTCOME_LABELS = {"ok": N_("succeeded"), "refused": N_("refused"), "failed": N_("failed")}


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
    outcome: Literal["ok", "refused", "failed"] | None = None
    since: date | None = Field(None, description="Events on or after this day (UTC).")
    until: date | None = Field(None, description="Events on or before this day (UTC).")
    before: int | None = Field(None, ge=1, le=2**62)  # a 64-bit sequence; larger would overflow the driver
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
    signed_size: int | None = Field(None, description="Size of the latest signed tree head checked, if any.")
    signed_at: str | None = None
    heads_checked: int = 0


class SignedHeadOut(BaseModel):
    size: int = Field(description="Number of audit events the head covers.")
    root: str = Field(description="RFC 6962 Merkle root over those events, hex.")
    signed_at: str
    key_id: str = Field(description="First 16 hex digits of SHA-256 over the raw Ed25519 public key.")
    signature: str = Field(description="Base64 Ed25519 signature over the checkpoint text (see docs/security.md).")


class SignedHeads(BaseModel):
    public_key: str = Field(description="The audit key's public half, PEM.")
    heads: list[SignedHeadOut]


class InclusionProof(BaseModel):
    seq: int
    size: int
    leaf: str = Field(description="RFC 6962 leaf hash of the event (SHA-256 of 0x00 and its chain hash).")
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
