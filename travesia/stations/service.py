"""Use cases of stations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, Conflict, InvalidInput
from travesia.core.principal import Principal
from travesia.models import Station
from travesia.stations import repository
from travesia.stations.schemas import StationCreate


def create_station(session: Session, principal: Principal, data: StationCreate) -> Station:
    if repository.by_code(session, data.code) is not None:
        raise Conflict(N_("A station with this code already exists."), field="code")
    station = repository.add(session, Station(**data.model_dump()))
    audit.record(session, principal, "station.create", record_type="station", record_id=station.id)
    return station


def station_by_code(session: Session, code: str) -> Station | None:
    """The station of a code (any case, surrounding spaces ignored), active or not; None when unknown."""
    return repository.by_code(session, code)


def codes_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    return repository.codes_by_id(session, ids)


def ensure_placeholder(session: Session, code: str) -> Station:
    """A field station's own record before central's feed fills in its name and kind (not audited: it is the
    station's bootstrap, and the feed that completes it is)."""
    return repository.by_code(session, code) or repository.add(
        session, Station(code=code, name=code, kind="reception", country="PA")
    )


def list_stations(session: Session) -> list[Station]:
    return repository.list_all(session)


def resolve_codes(session: Session, codes: list[str], *, field: str = "stations") -> list[Station]:
    """Stations for codes, in the given order; an unknown or inactive code is an input error naming it."""
    found = repository.by_codes(session, codes)
    result = []
    for index, code in enumerate(codes):
        station = found.get(code.strip().upper())
        if station is None or not station.active:
            raise InvalidInput(N_("Unknown station code: %(code)s"), field=f"{field}.{index}", code=code)
        result.append(station)
    return result


def import_stations(session: Session, principal: Principal, lines: Iterable[str]) -> tuple[int, int]:
    """Stations from JSON lines (one station a line, the fields of ``StationCreate``): every line checked first,
    then the stations not yet known are added (each audited) and known ones left as they are. Returns (added,
    already known). A bad line refuses the whole file, naming the line and the field."""
    wanted: list[StationCreate] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            wanted.append(StationCreate.model_validate_json(text))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "line"
            raise InvalidInput(
                N_("Not a valid station: %(problem)s"), field=f"line {number}: {where}", problem=first["msg"]
            ) from None
    known = repository.by_codes(session, [w.code for w in wanted])
    added = 0
    for data in wanted:
        if data.code not in known:
            known[data.code] = create_station(session, principal, data)
            added += 1
    return added, len(wanted) - added
