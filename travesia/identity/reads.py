"""What other domains may read of identity decisions (the identity domain's published read model); the repository
behind it stays private to the domain (pyproject.toml's contracts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from travesia.identity import repository
from travesia.models import IdentityDecision


def decisions_about(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[IdentityDecision]:
    """The merges and proposals that name any of these persons, newest first."""
    return repository.decisions(session, person_ids=person_ids)
