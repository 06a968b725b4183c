"""Manifest rules, pure: families travel together, the gate's verdict for a family, seats left."""

from __future__ import annotations

from collections.abc import Mapping


def family_verdict(members: list[str], holds: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Why each member may not travel: their own holds, and for everyone else in the family the fact that a member
    is held (a family is never split, so one protected member keeps the whole family off the flight)."""
    held = [m for m in members if holds.get(m)]
    return {m: list(holds.get(m) or []) or ([f"family_member_held:{len(held)}"] if held else []) for m in members}


def seats_left(capacity: int, occupied: int) -> int:
    return max(0, capacity - occupied)
