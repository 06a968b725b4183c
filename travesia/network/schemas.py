"""What the network API takes and gives: contacts named at interview, inspections and seizures, a person's network,
flagged clusters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.schemas import Country, Phone

ContactKind = Literal["guide", "payer", "contact"]
Method = Literal["x_ray", "gamma_scanner", "canine", "manual", "document_check"]
Result = Literal["clear", "anomaly", "seizure"]
Role = Literal["carrier", "owner", "driver", "passenger"]
SeizureKind = Literal["drugs", "weapons", "ammunition", "cash", "forged_documents", "other"]
Unit = Literal["kg", "g", "l", "units", "USD", "PAB", "EUR", "COP"]

# What the pages show for the stored codes.
CONTACT_KIND_LABELS = {"guide": N_("guide"), "payer": N_("payer"), "contact": N_("contact")}
LINK_KIND_LABELS = {
    "group": N_("group"),
    "phone": N_("phone"),
    "document": N_("document"),
    **CONTACT_KIND_LABELS,
    "seizure": N_("seizure"),
}
# Why community detection flagged a cluster (network.graph), in words.
CLUSTER_REASON_LABELS = {
    "parties_share_guide": N_("parties share a guide"),
    "parties_share_contact": N_("parties share a contact"),
    "parties_share_phone": N_("parties share a phone"),
    "parties_share_payer": N_("parties share a payer"),
    "document_shared": N_("a document shared by several persons"),
    "seizure": N_("linked to a seizure"),
    "child_alone_linked_to_adults": N_("a child alone linked to unrelated adults"),
    "alerts": N_("persons with alerts"),
}
METHOD_LABELS = {
    "x_ray": N_("X-ray"),
    "gamma_scanner": N_("gamma scanner"),
    "canine": N_("sniffer dog"),
    "manual": N_("manual search"),
    "document_check": N_("document check"),
}
RESULT_LABELS = {"clear": N_("clear"), "anomaly": N_("anomaly"), "seizure": N_("seizure")}
ROLE_LABELS = {"carrier": N_("carrier"), "owner": N_("owner"), "driver": N_("driver"), "passenger": N_("passenger")}
SEIZURE_LABELS = {
    "drugs": N_("drugs"),
    "weapons": N_("weapons"),
    "ammunition": N_("ammunition"),
    "cash": N_("cash"),
    "forged_documents": N_("forged documents"),
    "other": N_("other"),
}
assert set(METHOD_LABELS) == set(Method.__args__) and set(SEIZURE_LABELS) == set(SeizureKind.__args__)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(Strict):
    """Someone the person named at interview. At least one of name, phone or account."""

    kind: ContactKind
    name: str | None = Field(None, min_length=1, max_length=200)
    phone: Phone | None = None
    account: str | None = Field(None, min_length=3, max_length=80)
    amount_usd: float | None = Field(None, ge=0, le=1_000_000)
    notes: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _identifiable(self) -> ContactIn:
        if not (self.name or self.phone or self.account):
            raise RuleProblem(N_("Give the contact's name, phone or account."))
        return self


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    encounter_id: uuid.UUID
    kind: str
    name: str | None
    phone: str | None
    account: str | None
    key: str
    amount_usd: float | None
    recorded_at: datetime


class SubjectIn(Strict):
    encounter_id: uuid.UUID
    role: Role


class SeizureIn(Strict):
    kind: SeizureKind
    description: str = Field(min_length=1, max_length=300)
    quantity: float | None = Field(None, ge=0, le=1e9)
    unit: Unit | None = None
    item_ref: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unit_with_quantity(self) -> SeizureIn:
        if (self.quantity is None) != (self.unit is None):
            raise RuleProblem(N_("Give the quantity and its unit together."))
        return self


class InspectionIn(Strict):
    station: str = Field(min_length=1, max_length=32, description="The border point's station code.")
    occurred_at: datetime
    method: Method
    result: Result
    conveyance: str | None = Field(None, max_length=100)
    route_countries: list[Country] = Field(default_factory=list, max_length=30)
    notes: str | None = Field(None, max_length=4000)
    subjects: list[SubjectIn] = Field(default_factory=list, max_length=200)
    seizures: list[SeizureIn] = Field(default_factory=list, max_length=100)

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_past(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise RuleProblem(N_("Give a time zone (e.g. 2024-03-01T10:00:00-05:00)."))
        if value.astimezone(UTC) > datetime.now(UTC):
            raise RuleProblem(N_("The inspection time is in the future."))
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _result_matches_seizures(self) -> InspectionIn:
        if self.result == "seizure" and not self.seizures:
            raise RuleProblem(N_("An inspection with result 'seizure' lists what was seized."))
        if self.result != "seizure" and self.seizures:
            raise RuleProblem(N_("Seizures are listed only when the result is 'seizure'."))
        if len({s.encounter_id for s in self.subjects}) != len(self.subjects):
            raise RuleProblem(N_("A person is listed twice among the subjects."))
        return self


class SeizureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    description: str
    quantity: float | None
    unit: str | None
    item_ref: str | None


class InspectionOut(BaseModel):
    id: uuid.UUID
    station: str
    occurred_at: datetime
    method: str
    result: str
    conveyance: str | None
    route_countries: list[str]
    notes: str | None
    subjects: list[dict[str, str]]  # person_id, role
    seizures: list[SeizureOut]


class NodeOut(BaseModel):
    person_id: str
    hop: int
    name: str
    nationality: str | None
    born: int | None
    x: float
    y: float


class LinkOut(BaseModel):
    a: str
    b: str
    kind: str
    key: str
    detail: str


class NetworkOut(BaseModel):
    centre: str
    hops: int
    nodes: list[NodeOut]
    links: list[LinkOut]
    hidden: list[dict[str, object]]  # keys with more holders than drawn
    truncated: bool


class ClusterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_at: datetime
    algorithm: str
    size: int
    score: float
    reasons: list[dict[str, object]]
    person_ids: list[str]
    state: str
    reviewed_by_id: uuid.UUID | None
    reviewed_at: datetime | None
    note: str | None


class ClusterReviewIn(Strict):
    note: str = Field(min_length=1, max_length=2000)


class DetectionOut(BaseModel):
    persons: int
    communities: int
    flagged: int
    superseded: int


class ClusterFilter(BaseModel):
    """What the flagged-networks page shows: open or reviewed flags, from a size up, strongest first; ``after`` is
    the keyset cursor (score~id) of the last one shown."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "reviewed"] = "open"
    min_size: int | None = Field(None, ge=2, le=100000)
    after: str | None = Field(None, max_length=60, pattern=r"^[0-9.e+-]+~[0-9]+$")
    limit: int = Field(20, ge=1, le=100)
