"""Training progress: each of the trainee's exercises with whether they have done it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from travesia.core.principal import Principal
from travesia.training import repository
from travesia.training.exercises import Exercise, for_roles

CHECKS: dict[str, Callable[[Session, Principal], bool]] = {
    "family_bad_mrz": lambda s, p: repository.registered_family_with_zone(s, p.user_id, "HT4821907"),  # type: ignore[arg-type]
    "review_alert": lambda s, p: repository.reviewed_an_alert(s, p.user_id),  # type: ignore[arg-type]
    "refuse_protected": lambda s, p: repository.audited(s, p.user_id, "programmes.place", "refused"),  # type: ignore[arg-type]
    "child_alone_case": lambda s, p: repository.opened_case(s, p.user_id, "child_protection"),  # type: ignore[arg-type]
    "export_agreement": lambda s, p: repository.audited(s, p.user_id, "exchange.export_request"),  # type: ignore[arg-type]
}


@dataclass(frozen=True)
class Progress:
    exercise: Exercise
    done: bool


def progress(session: Session, principal: Principal) -> list[Progress]:
    return [Progress(e, CHECKS[e.key](session, principal)) for e in for_roles(principal.roles)]
