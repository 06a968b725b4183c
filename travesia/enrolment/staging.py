"""Images kept across a form's correction: when a registration form comes back with an error, every image already
accepted on it is staged here (sealed with the keyring, bound to the officer who attached it) and shown again, so a
refused photo on one member never costs the valid photos of the others. The next submission uses them and deletes
them in its own transaction; the workers' sweep deletes what was left after a day."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from travesia.core.crypto import DecryptionError, Keyring
from travesia.core.db import utcnow
from travesia.enrolment import repository
from travesia.enrolment.images import CleanImage
from travesia.models import StagedImage

KEPT_FOR = timedelta(days=1)


def _context(image_id: uuid.UUID, user_id: uuid.UUID) -> bytes:
    # Bound to the row and the officer: a sealed image copied to another row or read for another user fails.
    return b"staged-image:" + image_id.bytes + user_id.bytes


def stage(session: Session, keyring: Keyring, user_id: uuid.UUID, image: CleanImage) -> uuid.UUID:
    image_id = uuid.uuid4()
    sealed = keyring.encrypt(image.data, context=_context(image_id, user_id))
    repository.add(
        session,
        StagedImage(
            id=image_id, user_id=user_id, image_format=image.format, width=image.width, height=image.height,
            sealed=sealed,
        ),
    )  # fmt: skip
    return image_id


def staged(session: Session, keyring: Keyring, user_id: uuid.UUID, image_id: uuid.UUID) -> CleanImage | None:
    """The officer's own staged image, or None (another officer's, expired, swept or altered: all read as gone)."""
    row = repository.staged_image(session, image_id, user_id, utcnow() - KEPT_FOR)
    if row is None:
        return None
    try:
        data = keyring.decrypt(row.sealed, context=_context(row.id, user_id))
    except DecryptionError:
        return None
    return CleanImage(format=row.image_format, width=row.width, height=row.height, data=data)


def discard(session: Session, ids: list[uuid.UUID]) -> None:
    if ids:
        repository.delete_staged(session, ids)


def sweep(session: Session, now: datetime | None = None) -> int:
    """Delete what no submission used within a day; the count deleted."""
    return repository.delete_staged_before(session, (now or utcnow()) - KEPT_FOR)
