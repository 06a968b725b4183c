"""Watchlists and their versions: creating a list, importing a version of it (checked whole first, written as
one delta), and what each version did entry by entry. A version's re-screening is the pipeline's (``service``)."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.models import Watchlist, WatchlistEntry
from travesia.models import WatchlistVersion as Version
from travesia.screening import formats, listformats, repository
from travesia.screening.schemas import WatchlistIn


def create_list(session: Session, principal: Principal, data: WatchlistIn) -> Watchlist:
    if repository.watchlist_by_name(session, data.name):
        raise Conflict(N_("A list with this name exists already."), field="name")
    wl = Watchlist(**data.model_dump())
    repository.add(session, wl)
    session.flush()
    audit.record(session, principal, "watchlist.create", record_type="watchlist", record_id=wl.id)
    return wl


@dataclass
class ImportReport:
    version: int
    mode: str
    added: int
    changed: int
    removed: int
    unchanged: int
    version_id: uuid.UUID


def import_list(
    session: Session,
    principal: Principal,
    name: str,
    lines: Iterable[str],
    *,
    file_name: str,
    format_name: str | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    mode: str | None = None,
) -> ImportReport:
    """Read the whole file first (any problem refuses it whole, naming line and field), then write one version: a
    full file replaces the list (entries not in it are removed), a delta file (OpenSanctions' ADD/MOD/DEL lines, or
    ``mode='delta'``) changes only what it names. An id removed earlier and given again is listed again, on the
    same entry; every change is kept per version (``version_changes``). Unchanged entries are left alone, so
    re-importing the same file makes a version with nothing in it."""
    wl = repository.watchlist_by_name(session, name, lock=True)
    if wl is None:
        raise NotFound(N_("No list with this name."), field="list")
    sha = hashlib.sha256()

    def hashed(stream: Iterable[str]) -> Iterable[str]:
        for line in stream:
            sha.update(line.encode())
            yield line

    try:
        parsed = listformats.read_file(hashed(lines), wl.kind, mapping, format_name)
    except formats.ListFileError as error:
        first = error.problems[0]
        raise InvalidInput(
            N_("The list file was refused, nothing was imported: %(problems)s"),
            field=f"line {first.line}: {first.field}" if first.line else first.field,
            problems="; ".join(str(p) for p in error.problems),
        ) from None
    if mode not in (None, "full", "delta"):
        raise InvalidInput(N_("Mode must be full or delta."), field="mode")
    mode = mode or ("delta" if any(p.delta for p in parsed) else "full")
    number = wl.version + 1
    changes, unchanged = _apply(session, wl, parsed, number, source or file_name, full=mode == "full")
    counted = Counter(COUNTED_AS[change] for _, change in changes)
    counts = {"added": counted["added"], "changed": counted["changed"], "removed": counted["removed"]}
    counts["unchanged"] = unchanged
    version = Version(
        id=uuid.uuid4(),
        watchlist_id=wl.id,
        number=number,
        file_name=file_name[:300],
        file_sha256=sha.hexdigest(),
        mode=mode,
        imported_by=principal.username,
        **counts,
    )
    wl.version = number
    repository.add(session, version)
    session.flush()
    repository.add_changes(session, version.id, changes)
    audit.record(
        session,
        principal,
        "watchlist.import",
        record_type="watchlist",
        record_id=wl.id,
        details={"version": number, "mode": mode, "sha256": version.file_sha256, **counts},
    )
    return ImportReport(number, mode, version_id=version.id, **counts)


def version_changes(
    session: Session, name: str, number: int, *, after: str = "", limit: int = 500
) -> list[dict[str, str]]:
    """What version ``number`` of a list did, entry by entry, a page at a time after the list id ``after``."""
    wl = repository.watchlist_by_name(session, name)
    if wl is None:
        raise NotFound(N_("No list with this name."), field="name")
    version = repository.version_by_number(session, wl.id, number)
    if version is None:
        raise NotFound(N_("This list has no version with this number."), field="number")
    return [
        {"external_id": e.external_id, "caption": e.caption, "change": c.change, "content_hash": c.content_hash}
        for c, e in repository.changes_of_version(session, version.id, after=after, limit=limit)
    ]


# A relisted entry counts among the version's additions: it was not on the list before and is now.
COUNTED_AS = {"added": "added", "relisted": "added", "changed": "changed", "removed": "removed"}


def _apply(
    session: Session,
    wl: Watchlist,
    parsed: list[formats.ParsedEntry],
    number: int,
    source: str,
    *,
    full: bool,
) -> tuple[list[tuple[WatchlistEntry, str]], int]:
    """The version's changes to the entries, as (entry, change) pairs, and how many given entries were unchanged.
    An id the list removed earlier and gives again brings its old row back (its alerts and history stay its own)."""
    known = repository.entries_by_external_id(session, wl.id)
    changes: list[tuple[WatchlistEntry, str]] = []
    unchanged = 0
    for item in parsed:
        current = known.get(item.external_id)
        live = current is not None and current.removed_version is None
        if item.deleted:
            if live:
                changes.append((_remove(current, number), "removed"))
        elif current is None:
            entry = WatchlistEntry(id=uuid.uuid4(), watchlist_id=wl.id, external_id=item.external_id)
            entry.added_version = number
            repository.add(session, _update(entry, item, number, source, wl.kind))
            changes.append((entry, "added"))
        elif not live:
            current.removed_version = None
            changes.append((_update(current, item, number, source, wl.kind), "relisted"))
        elif current.content_hash != item.content_hash:
            changes.append((_update(current, item, number, source, wl.kind), "changed"))
        else:
            unchanged += 1
    if full:
        given = {p.external_id for p in parsed}
        for external_id, current in known.items():
            if external_id not in given and current.removed_version is None:
                changes.append((_remove(current, number), "removed"))
    return changes, unchanged


def _update(entry: WatchlistEntry, item: formats.ParsedEntry, number: int, source: str, kind: str) -> WatchlistEntry:
    entry.schema = item.schema
    entry.caption = item.caption
    entry.properties = item.properties
    entry.source = source[:300]
    entry.content_hash = item.content_hash
    if kind == "documents":
        entry.document_key, entry.document_state = formats.document_fields(item.properties)
    entry.changed_version = number
    return entry


def _remove(entry: WatchlistEntry, number: int) -> WatchlistEntry:
    entry.removed_version = number
    entry.changed_version = number
    return entry
