"""Birth dates compared into levels, as graded evidence. Pure.

Three groups, because what two dates can agree on depends on what they say: two full dates agree to the day (or
with day and month swapped, or the same day and month with the year one off — a slip); where one side gives only
the year, the year itself is known and agrees or not (one off is common where it was converted from the Persian or
Islamic calendar, which straddle two of ours); where the query's year is estimated (an officer's guess of an age),
it agrees to the year give or take one. ``scoring`` calibrates each group's levels apart.
"""

from __future__ import annotations

from collections.abc import Sequence

# From the closest agreement to the furthest, across the groups.
LEVELS = (
    "same_date",
    "day_month_swapped",
    "year_slip",
    "year_known_same",
    "same_year",
    "year_known_near",
    "year_near",
    "same_year_other_day",
    "different",
    "year_known_different",
    "different_year",
)
GROUPS = (
    ("same_date", "day_month_swapped", "year_slip", "same_year_other_day", "different"),
    ("year_known_same", "year_known_near", "year_known_different"),
    ("same_year", "year_near", "different_year"),
)


def parts(iso: str) -> tuple[int, int | None, int | None]:
    """Year, month and day of an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    bits = [int(p) for p in iso.split("-")]
    return bits[0], (bits[1] if len(bits) > 1 else None), (bits[2] if len(bits) > 2 else None)


def level(q: str, c: str, estimated: bool) -> str:
    (qy, qm, qd), (cy, cm, cd) = parts(q), parts(c)
    if estimated:
        return "same_year" if qy == cy else "year_near" if abs(qy - cy) == 1 else "different_year"
    if qd is None or cd is None:
        return "year_known_same" if qy == cy else "year_known_near" if abs(qy - cy) == 1 else "year_known_different"
    if (qy, qm, qd) == (cy, cm, cd):
        return "same_date"
    if qy == cy and (qm, qd) == (cd, cm):
        return "day_month_swapped"
    if qy == cy:
        return "same_year_other_day"
    if abs(qy - cy) == 1 and (qm, qd) == (cm, cd):
        return "year_slip"
    return "different"


def closest(query: Sequence[str], candidate: Sequence[str], estimated: bool) -> tuple[str, str, str]:
    """The closest pair of the two sides' dates: its level and the two dates."""
    found = [(level(q, c, estimated), q, c) for q in query for c in candidate]
    return min(found, key=lambda item: LEVELS.index(item[0]))
