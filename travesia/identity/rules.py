"""The arithmetic of identity decisions, pure: the moves a merge, split or undo makes, replaying moves into the
encounter → person map, and the online rule (attach, propose or leave alone)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Move = tuple[str, str, str]  # encounter, from person, to person

# Online resolution: attach only when biometrics took part and the fused evidence is overwhelming; propose to a
# person when it is merely likely; otherwise the encounter stays its own person. The same probabilities as the
# screening scores (calibrated Fellegi-Sunter; face and finger bits calibrated on LFW and FVC2002).
ATTACH = 0.99
PROPOSE = 0.5


def moves(encounters: Iterable[str], source: str, target: str) -> list[Move]:
    """The encounters going from one person to another (a merge moves all of them, a split the chosen ones)."""
    return [(e, source, target) for e in sorted(encounters)]


def reverse(moves: Iterable[Move]) -> list[Move]:
    return [(e, to, frm) for e, frm, to in moves]


def stale(moves: Iterable[Move], current: Mapping[str, str]) -> list[str]:
    """Encounters a decision moved that are no longer where it left them: undoing it would overwrite a later
    decision, so it must be undone first."""
    return [e for e, _, to in moves if current.get(e) != to]


def replay(registered: Mapping[str, str], decisions: Iterable[Iterable[Move]]) -> dict[str, str]:
    """The encounter → person map from where each encounter was registered and every applied decision's moves,
    in the order they were made (an undo is a decision of its own, with the reverse moves)."""
    person = dict(registered)
    for moves in decisions:
        for encounter, source, target in moves:
            if person.get(encounter) != source:
                raise ValueError(f"decision log inconsistent at encounter {encounter}")
            person[encounter] = target
    return person


@dataclass(frozen=True)
class Verdict:
    action: str  # attach, propose, none
    person_id: str | None
    probability: float


def online_verdict(best: Mapping[str, tuple[float, bool]]) -> Verdict:
    """``best`` maps each candidate person to (fused probability, whether a face or fingerprint comparison took
    part). The strongest person decides; attaching needs biometrics, never names alone."""
    if not best:
        return Verdict("none", None, 0.0)
    person, (probability, biometric) = max(best.items(), key=lambda item: item[1][0])
    if probability >= ATTACH and biometric:
        return Verdict("attach", person, probability)
    if probability >= PROPOSE:
        return Verdict("propose", person, probability)
    return Verdict("none", None, probability)
