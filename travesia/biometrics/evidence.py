"""Biometric comparisons as calibrated evidence, in bits. Pure.

Each comparison score becomes a log-likelihood ratio, log2(P(score | same person) / P(score | different persons)),
read off a monotone curve fitted on real labelled pairs (``bench/biometric_calibration.py``: LFW for faces, FVC2002
DB1_B for fingers; checked on the parts the fit never saw) and stored in ``calibration.json`` beside this module.
Bits add up across independent comparisons, and the names', documents' and birth dates' bits of the screening model
add to them on the same scale: +10 bits is a thousand-to-one for the same person, -10 the reverse.

Fingers of one person are not independent (one skin, one capture, one officer): their bits are summed and then
scaled by n / (the sum of their correlation matrix), the effective number of independent fingers over the number
of fingers (Kish's design effect). Only part of the correlations is measured: the fingers' genuine scores share the
capture's conditions with a rank correlation of 0.09-0.18 on FVC2002 (bench/biometric_calibration.py), hence 0.15
across hands; what one hand's fingers share beyond that is assumed (0.3 in all), as FVC2002 does not say which of
its fingers are one person's.

A modality captured on both sides counts whether it agrees or not: a face the search did not rank among the
nearest counts at most the bits of the farthest face it did rank (its real distance is larger still); a finger held
by both sides is always compared. A modality missing on either side adds nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

CALIBRATION = Path(__file__).with_name("calibration.json")
MATCH_BITS = 10.0  # a thousand to one: evidence enough to show an officer "the same biometrics"
LIKELY_BITS = 3.3  # ten to one: a candidate worth an analyst's look
SAME_HAND, OTHER_HAND = 0.3, 0.15  # two fingers' correlation: the capture's share measured, the hand's assumed
# how strong a term's bits are, in words (the officer reads these, not the numbers)
STRENGTHS = ((10, "very_strong_for"), (3.3, "for"), (-3.3, "neutral"), (-10, "against"))
LOWEST = "very_strong_against"


class Curve:
    """Bits at rising score points; linear between them, flat beyond the ends (the fit's bounded evidence)."""

    def __init__(self, scores: list[float], bits: list[float]) -> None:
        self.scores, self.values = np.asarray(scores, float), np.asarray(bits, float)

    def bits(self, score: float | np.ndarray) -> np.ndarray:
        return np.interp(score, self.scores, self.values)

    def __call__(self, score: float) -> float:
        return round(float(self.bits(score)), 3)


@cache
def curves() -> dict[str, Curve]:
    data = json.loads(CALIBRATION.read_text())["curves"]
    return {name: Curve(c["scores"], c["bits"]) for name, c in data.items()}


class NotCalibrated(LookupError):
    """No calibration for this face model: fit one (bench/biometric_calibration.py) before using it."""


def face_bits(distance: float, algorithm: str) -> float:
    curve = curves().get(f"face/{algorithm}")
    if curve is None:
        raise NotCalibrated(algorithm)
    return curve(-distance)  # fitted on the negated distance: nearer is more


def finger_bits(score: float, rescored: bool = False) -> float:
    return curves()["finger/rescored" if rescored else "finger/bozorth3"](score)


def hand(position: int) -> str | None:
    """ISO/IEC 19794 finger positions: 1–5 the right hand, 6–10 the left; 0 unknown."""
    return "right" if 1 <= position <= 5 else "left" if 6 <= position <= 10 else None


def dependence_scale(positions: list[int]) -> float:
    """The effective number of independent fingers over their number: n / (sum of their correlation matrix)."""
    n = len(positions)
    if n < 2:
        return 1.0
    total = float(n)
    for i, a in enumerate(positions):
        for b in positions[i + 1 :]:
            same = hand(a) is not None and hand(a) == hand(b)
            total += 2 * (SAME_HAND if same or hand(a) is None or hand(b) is None else OTHER_HAND)
    return n / total


def strength(bits: float) -> str:
    for floor, word in STRENGTHS:
        if bits >= floor:
            return word
    return LOWEST


@dataclass(frozen=True)
class Evidence:
    """One candidate's biometric evidence: each modality's bits and how the fingers were counted."""

    face: float | None = None
    face_found: bool = True  # False: not among the nearest faces, ``face`` is the most it can be
    fingers: Mapping[int, float] = field(default_factory=dict)

    @property
    def finger_scale(self) -> float:
        return dependence_scale(sorted(self.fingers))

    @property
    def finger_total(self) -> float | None:
        return round(sum(self.fingers.values()) * self.finger_scale, 3) if self.fingers else None

    @property
    def total(self) -> float:
        return round((self.face or 0.0) + (self.finger_total or 0.0), 3)

    def terms(self) -> list[dict[str, object]]:
        """One explanation line per modality, as screening and identity resolution show theirs: its level in
        words, its bits, and what it rests on (each finger's bits by position; how many independent fingers)."""
        out: list[dict[str, object]] = []
        if self.face is not None:
            level = strength(self.face) if self.face_found else "not_among_nearest"
            out.append({"feature": "face", "level": level, "bits": self.face, "detail": ""})
        if self.fingers:
            each = ", ".join(f"{p}: {b:+.1f}" for p, b in sorted(self.fingers.items()))
            detail = f"{each} (x{self.finger_scale:.2f})" if len(self.fingers) > 1 else each
            out.append(
                {
                    "feature": "finger",
                    "level": strength(self.finger_total or 0.0),
                    "bits": self.finger_total,
                    "detail": detail,
                }
            )
        return out

    def as_json(self) -> dict[str, object]:
        """What the candidate row stores (its total is the row's score): the bits it was made from, and the
        explanation's terms for the domains that read them without this module (screening)."""
        return {
            "face": self.face,
            "face_found": self.face_found,
            "fingers": {str(p): b for p, b in sorted(self.fingers.items())},
            "terms": self.terms(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object] | None) -> Evidence | None:
        if not data:
            return None
        fingers = {int(p): float(b) for p, b in dict(data.get("fingers") or {}).items()}  # type: ignore[call-overload]
        face = data.get("face")
        return cls(float(face) if face is not None else None, bool(data.get("face_found", True)), fingers)  # type: ignore[arg-type]
