"""What central sends back to a field station after a batch: alerts and person links for its registrations,
watchlist deltas (secret lists stay at central) and its region's templates, each from the station's cursor."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import service as biometrics
from travesia.core import crypto
from travesia.core.db import utcnow
from travesia.models import Station, WatchlistEntry
from travesia.screening import reads as screening
from travesia.screening.schemas import WatchlistIn
from travesia.stations.schemas import StationCreate
from travesia.sync import central, envelope, repository
from travesia.sync.schemas import (
    AlertNotice,
    Feed,
    FeedRequest,
    LinkNotice,
    ListDelta,
    Region,
    RegionPersonNotice,
    RegionTemplate,
)

# The feed repeats this much before the cursor: a row committed late with an earlier time is still sent.
FEED_OVERLAP = timedelta(minutes=10)
# Region templates per feed: ~1 MB of JSON on a thin link; the station asks again while there are more.
REGION_PAGE = 1000


# -- the feed back -----------------------------------------------------------------------------------------------
def feed(
    session: Session,
    blob: bytes,
    now: datetime | None = None,
    *,
    bio: biometrics.Biometrics | None = None,
    region_days: int = 0,
    region_page: int | None = None,
) -> Feed:
    """Alerts and person links for the station's encounters since its cursor, the list entries changed since the
    versions it holds, and (with ``bio`` and ``region_days``) a page of the templates of people registered in its
    region. Read-only; a replayed request only repeats what the station was already sent."""
    now = now or utcnow()
    opened = central.open_envelope(session, blob, "feed")
    station = opened.station
    request = central.validated_body(FeedRequest, opened.envelope.header["body"], "header.body", station.code)
    since = request.cursor - FEED_OVERLAP if request.cursor else None
    alerts = [
        AlertNotice.model_validate(a, from_attributes=True)
        for a in repository.alerts_for_station(session, station.id, since)
    ]
    pairs = repository.links_for_station(session, station.id, since)
    counts = repository.encounters_per_person(session, {p for _, p in pairs})
    links = [LinkNotice(encounter_id=e, person_id=p, encounters=counts.get(p, 1)) for e, p in pairs]
    lists = []
    for wl in repository.shareable_lists(session):
        held = request.lists.get(wl.name, 0)
        if wl.version <= held:
            continue
        lines = [_delta_line(entry) for entry in screening.entries_changed_since(session, wl.id, held)]
        described = {name: getattr(wl, name) for name in WatchlistIn.model_fields}
        lists.append(ListDelta.model_validate({**described, "version": wl.version, "lines": lines}))
    region = None
    if bio is not None and region_days > 0:
        region = _region(session, bio, station, request.region_mark, region_days, now, region_page or REGION_PAGE)
    cursor = repository.cursor(session, station.id)
    details: dict[str, object] = {"alerts": len(alerts), "links": len(links), "lists": [d.name for d in lists]}
    if region is not None:
        details["region"] = {"persons": len(region.persons), "templates": len(region.templates)}
    audit.record(
        session,
        central.station_principal(station, opened.key.key_id),
        "sync.feed",
        record_type="station",
        record_id=station.id,
        details=details,
    )
    return Feed(
        now=now,
        station=StationCreate.model_validate({name: getattr(station, name) for name in StationCreate.model_fields}),
        last_seq=cursor.last_seq if cursor else 0,
        alerts=alerts,
        links=links,
        lists=lists,
        region=region,
    )


def _region(
    session: Session, bio: biometrics.Biometrics, station: Station, mark: int, days: int, now: datetime, page: int
) -> Region:
    """The next page of templates, after the station's mark, of people registered at the other stations of its
    region in the last ``days``, and who those people are. A template central cannot decrypt (a key retired) is
    passed over."""
    neighbours = repository.region_neighbours(session, station)
    since = now - timedelta(days=days)
    rows = repository.region_templates(session, neighbours, mark, since, page) if neighbours else []
    templates = []
    for row, person_id in rows:
        if row.algorithm == bio.second_stage_made_by[0]:
            continue  # the second stage re-scores central's searches; a station compares Bozorth3's templates only
        try:
            plaintext = biometrics.unseal(bio, row)
        except crypto.DecryptionError:
            continue
        templates.append(
            RegionTemplate(
                id=row.id,
                person_id=person_id,
                modality=row.modality,  # type: ignore[arg-type]
                position=row.finger_position,
                algorithm=row.algorithm,
                version=row.version,
                quality=row.quality,
                template=base64.b64encode(plaintext).decode(),
            )
        )
    people = {t.person_id for t in templates}
    latest = repository.latest_in_region(session, people, neighbours)
    counts = repository.encounters_per_person(session, people)
    persons = [
        RegionPersonNotice(
            person_id=person_id,
            given_names=encounter.given_names,
            surnames=encounter.surnames,
            birth_year=encounter.birth_year,
            sex=encounter.sex,  # type: ignore[arg-type]
            nationality=encounter.nationality,
            station=code,
            seen_at=encounter.recorded_at,
            encounters=counts.get(person_id, 1),
        )
        for person_id, (encounter, code) in latest.items()
    ]
    return Region(
        days=days,
        mark=rows[-1][0].id if rows else mark,
        more=len(rows) == page,
        persons=persons,
        templates=templates,
    )


def _delta_line(entry: WatchlistEntry) -> str:
    """OpenSanctions' delta format, which the station's list import reads as it reads any delta file."""
    if entry.removed_version is not None:
        return envelope.canonical({"op": "DEL", "entity": {"id": entry.external_id}}).decode()
    entity = {"id": entry.external_id, "schema": entry.schema, "properties": entry.properties}
    return envelope.canonical({"op": "ADD", "entity": entity}).decode()
