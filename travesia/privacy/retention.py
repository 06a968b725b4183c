"""Retention rules, pure: how long each kind of record is kept after a person's last activity, and which persons
are past it. Configurable (a JSON file named by TRAVESIA_RETENTION_RULES); the default follows the example of
Eurodac's periods (Regulation (EU) 2024/1358): 10 years for applicants for international protection, 5 years for
persons registered in irregular transit, 3 years for operational records that never became a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEFAULT_YEARS = {"asylum": 10, "transit": 5, "operational": 3}


@dataclass(frozen=True)
class Rules:
    years: dict[str, int]

    def period(self, kind: str) -> int:
        return self.years[kind]


def load_rules(path: Path | None) -> Rules:
    if path is None:
        return Rules(dict(DEFAULT_YEARS))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(data, dict) or set(data) != set(DEFAULT_YEARS):
        raise ValueError(f"{path}: give exactly the kinds {', '.join(sorted(DEFAULT_YEARS))} with their years")
    for kind, years in data.items():
        if not isinstance(years, int) or not 1 <= years <= 100:
            raise ValueError(f"{path}: '{kind}' must be a whole number of years between 1 and 100")
    return Rules(dict(data))


@dataclass(frozen=True)
class PersonActivity:
    person_id: str
    last_activity: date
    asylum: bool  # ever claimed asylum: kept as an applicant's record


@dataclass(frozen=True)
class Due:
    person_id: str
    kind: str
    last_activity: date
    due_on: date


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due(people: list[PersonActivity], rules: Rules, today: date) -> list[Due]:
    """The persons whose period has ended: strictly after last activity + period (the last day is still kept)."""
    out = []
    for p in people:
        kind = "asylum" if p.asylum else "transit"
        due_on = add_years(p.last_activity, rules.period(kind))
        if today > due_on:
            out.append(Due(p.person_id, kind, p.last_activity, due_on))
    return sorted(out, key=lambda d: (d.due_on, d.person_id))
