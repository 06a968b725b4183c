"""What links people beyond their own registration: contacts named at interview (a guide, a payer), border-point
inspections with what they found, and the clusters that community detection flags for an analyst's look."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at, uuid_pk

CONTACT_KINDS = ("guide", "payer", "contact")
INSPECTION_METHODS = ("x_ray", "gamma_scanner", "canine", "manual", "document_check")
INSPECTION_RESULTS = ("clear", "anomaly", "seizure")
SUBJECT_ROLES = ("carrier", "owner", "driver", "passenger")
SEIZURE_KINDS = ("drugs", "weapons", "ammunition", "cash", "forged_documents", "other")


class TravelContact(Base):
    """Someone a person named at interview: the guide who took them through, who paid, a contact on the route.

    ``key`` is what makes two records the same contact (the phone's digits, else the payment account, else the
    folded name), so that links never depend on how an officer spelt a name."""

    __tablename__ = "travel_contacts"
    __table_args__ = (
        Index("ix_travel_contacts_key", "kind", "key"),
        Index("ix_travel_contacts_encounter", "encounter_id"),
        CheckConstraint(f"kind IN {CONTACT_KINDS}", name="kind"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    account: Mapped[str | None] = mapped_column(String(80))  # a payment account or wallet, as told
    key: Mapped[str] = mapped_column(String(120))
    amount_usd: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at()


class Inspection(Base):
    """A border-point inspection: non-intrusive (x-ray, gamma scanner, canine) or manual, of a conveyance and the
    people with it, on a route."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_station_time", "station_id", "occurred_at"),
        CheckConstraint(f"method IN {INSPECTION_METHODS}", name="method"),
        CheckConstraint(f"result IN {INSPECTION_RESULTS}", name="result"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    occurred_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(8))
    conveyance: Mapped[str | None] = mapped_column(String(100))  # a plate, a boat's name, a bus company and seat
    route_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at()


class InspectionSubject(Base):
    """A person (by the encounter that registered them) present at an inspection, and their role in it."""

    __tablename__ = "inspection_subjects"
    __table_args__ = (
        Index("ix_inspection_subjects_encounter", "encounter_id"),
        CheckConstraint(f"role IN {SUBJECT_ROLES}", name="role"),
    )

    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))


class Seizure(Base):
    """What an inspection seized. ``item_ref`` (a serial number, a forged document's number, a package marking)
    links seizures of the same item, or the same batch, across inspections."""

    __tablename__ = "seizures"
    __table_args__ = (
        Index("ix_seizures_inspection", "inspection_id"),
        Index("ix_seizures_item", "item_ref"),
        CheckConstraint(f"kind IN {SEIZURE_KINDS}", name="kind"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id"))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(12))  # kg, g, units, USD
    item_ref: Mapped[str | None] = mapped_column(String(100))


CLUSTER_ID = BigInteger().with_variant(Integer, "sqlite")


class NetworkCluster(Base):
    """A community that detection flagged for an analyst's look, with the reasons; a flag, never a finding."""

    __tablename__ = "network_clusters"
    __table_args__ = (
        Index("ix_network_clusters_state", "state", "score"),
        CheckConstraint("state IN ('open', 'reviewed', 'superseded')", name="state"),
    )

    id: Mapped[int] = mapped_column(CLUSTER_ID, primary_key=True, autoincrement=True)
    run_at: Mapped[datetime] = created_at()
    algorithm: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    person_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default="open")
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
