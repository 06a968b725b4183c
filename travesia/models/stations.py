from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at, uuid_pk

STATION_KINDS = ("reception", "border_post", "airport", "seaport", "shelter", "headquarters")


class Station(Base):
    """A place where people are registered or where staff work (an ERM in Darién, a border post, HQ)."""

    __tablename__ = "stations"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2), default="PA")  # ISO 3166-1 alpha-2
    region: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    capacity: Mapped[int | None]  # people it can shelter at once; None for offices
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at()
