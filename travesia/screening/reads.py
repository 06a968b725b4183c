"""What other domains may read of the watchlists (the screening domain's published read model); the repository
behind it stays private to the domain (pyproject.toml's contracts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from travesia.models import Watchlist, WatchlistEntry
from travesia.screening import repository


def watchlist_by_name(session: Session, name: str) -> Watchlist | None:
    return repository.watchlist_by_name(session, name)


def live_entries(session: Session, watchlist_id: uuid.UUID) -> dict[str, WatchlistEntry]:
    """The entries of a list's latest version, by their id in the list."""
    return repository.live_entries(session, watchlist_id)


def entries_changed_since(session: Session, watchlist_id: uuid.UUID, after: int) -> Iterator[WatchlistEntry]:
    """Entries added, changed or removed in the versions after ``after`` (a removal is a change)."""
    return repository.entries_changed_since(session, watchlist_id, after)
