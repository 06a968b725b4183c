"""Whether an agreement allows an exchange now, for this direction and purpose: pure, table-tested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from travesia.core.errors import N_


@dataclass(frozen=True)
class Terms:
    name: str
    directions: frozenset[str]
    purposes: frozenset[str]
    fields: frozenset[str]
    modalities: frozenset[str]
    valid_from: date
    expires_on: date
    suspended_at: datetime | None


class NotAgreed(Exception):
    """An exchange the agreement does not cover; ``field`` names what the caller asked for."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.field, self.message, self.params = field, message, params


def check(terms: Terms, direction: str, purpose: str | None, today: date) -> None:
    if terms.suspended_at is not None:
        raise NotAgreed("agreement", N_("The agreement %(name)s is suspended."), name=terms.name)
    if today < terms.valid_from:
        raise NotAgreed("agreement", N_("The agreement %(name)s is not in force yet."), name=terms.name)
    if today >= terms.expires_on:
        raise NotAgreed("agreement", N_("The agreement %(name)s has expired."), name=terms.name)
    if direction not in terms.directions:
        raise NotAgreed(
            "agreement",
            N_("The agreement %(name)s does not cover %(direction)s."),
            name=terms.name,
            direction=direction,
        )
    if purpose is not None and purpose not in terms.purposes:
        raise NotAgreed("purpose", N_("This purpose is not in the agreement %(name)s."), name=terms.name)
