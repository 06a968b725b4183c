"""The only SQL of stations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from travesia.models import Station


def by_code(session: Session, code: str) -> Station | None:
    return session.execute(select(Station).where(Station.code == code.strip().upper())).scalar_one_or_none()


def by_codes(session: Session, codes: Iterable[str]) -> dict[str, Station]:
    wanted = [c.strip().upper() for c in codes]
    rows = session.execute(select(Station).where(Station.code.in_(wanted))).scalars()
    return {row.code: row for row in rows}


def codes_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Station.id, Station.code).where(Station.id.in_(set(ids))))
    return {row.id: row.code for row in rows}


def list_all(session: Session) -> list[Station]:
    return list(session.execute(select(Station).order_by(Station.code)).scalars())


def add(session: Session, station: Station) -> Station:
    session.add(station)
    session.flush()
    return station
