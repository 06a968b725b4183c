"""Roll-ups for the dashboard: registrations per day and station by nationality, sex and age band, and each group's
first registration. Kept current by ``statistics.service.refresh`` (incremental: registrations
are immutable, so each is added once, by the time it was recorded)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base


class StatsDaily(Base):
    __tablename__ = "stats_daily"
    __table_args__ = (Index("ix_stats_daily_station_day", "station_id", "day"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    nationality: Mapped[str] = mapped_column(String(3), primary_key=True)  # '???' when not known
    sex: Mapped[str] = mapped_column(String(1), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(5), primary_key=True)
    registrations: Mapped[int]


class StatsGroupFirst(Base):
    """Each travelling group's first registration (day and station): a group seen again later is not new."""

    __tablename__ = "stats_group_first"
    __table_args__ = (Index("ix_stats_group_first_day", "day"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("travel_groups.id"), primary_key=True)
    day: Mapped[date]
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(16))


class StatsGroupsDaily(Base):
    """Groups per day of first registration, kept by adding and moving counts as ``stats_group_first`` changes."""

    __tablename__ = "stats_groups_daily"

    day: Mapped[date] = mapped_column(primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    groups: Mapped[int]


class StatsWatermark(Base):
    """How far the roll-ups have read: registrations recorded up to ``recorded_until`` are counted."""

    __tablename__ = "stats_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    recorded_until: Mapped[datetime]
    refreshed_at: Mapped[datetime]
