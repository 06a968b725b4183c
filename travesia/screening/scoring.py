"""Fused, calibrated, explainable scores for one query against one candidate. Pure.

The model is Fellegi–Sunter's, as Splink uses it: each field is compared into a level ("same date", "one year
apart", ...), and each level carries a log-likelihood ratio, log2(m/u), where m is how often true matches show that
level and u how often non-matches do. The ratios of the fields add up (they are treated as independent given the
match status), a prior turns the sum into a probability, and the explanation is the list of terms: which field, at
which level, added or took away how many bits.

Where m and u come from:
- names, birth dates, nationality, sex and documents: counted on a labelled synthetic set (planted variants among
  retrieved candidates) by ``bench/screening.py --calibrate``, written to ``calibration.json`` beside this file;
- face and fingerprints: the error rates measured on LFW and FVC2002 (docs/benchmarks.md), at the measured
  thresholds; a biometric comparison is evidence like any other field, never a decision.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from travesia.screening import names as N

CALIBRATION = Path(__file__).with_name("calibration.json")

# LFW (2,452 images): FMR 1e-4 at distance 0.471 with FNMR 31.9 %, FMR 1e-3 at 0.535 with 9.14 %, 0.6: FMR 0.71 %
# and FNMR 1.39 %. Each band's m and u are the differences between those points.
FACE_BANDS = ((0.471, "very_close", 0.681, 1e-4), (0.535, "close", 0.2276, 9e-4), (0.6, "near", 0.0775, 6.1e-3))
FACE_FAR = ("different", 0.0139, 0.9929)
# FVC2002 Bozorth3 (840 genuine / 8,640 impostor pairs): score 40 had no false match (bounded at 1e-4) and FNMR
# 22.6 %; score 27 is FMR 1e-3 with FNMR 16.3 %.
FINGER_BANDS = ((40, "strong", 0.774, 1e-4), (27, "moderate", 0.063, 9e-4))
FINGER_WEAK = ("different", 0.163, 0.999)


@dataclass(frozen=True, slots=True)
class Record:
    """A person as screening sees them, whether an encounter (the query) or a watchlist entry (the candidate)."""

    id: str
    names: tuple[str, ...]
    birth_dates: tuple[str, ...] = ()  # ISO: YYYY, YYYY-MM or YYYY-MM-DD
    birth_estimated: bool = False
    nationalities: tuple[str, ...] = ()  # ISO 3166-1 alpha-3
    sex: str | None = None  # M, F
    documents: tuple[tuple[str, str | None], ...] = ()  # (number as printed, issuing state alpha-3)


@cache
def analysed(names: tuple[str, ...]) -> tuple[N.NameForm, ...]:
    """A record's names analysed once (cached on the names themselves, so an entry's aliases are not redone)."""
    return tuple(N.analyse(n) for n in names)


def document_key(number: str) -> str:
    return "".join(ch for ch in number.upper() if ch.isalnum())


# -- comparing fields into levels ------------------------------------------------------------------------------
def name_level(score: float) -> str:
    for floor, level in ((0.97, "exact"), (0.9, "strong"), (0.82, "close"), (0.7, "partial")):
        if score >= floor:
            return level
    return "weak"


def best_name(query: Record, candidate: Record) -> N.NameMatch:
    best = N.NameMatch(0.0, (), "", "")
    for q in analysed(query.names):
        for c in analysed(candidate.names):
            found = N.compare(q, c)
            if found.score > best.score:
                best = found
    return best


def _parts(iso: str) -> tuple[int, int | None, int | None]:
    bits = [int(p) for p in iso.split("-")]
    return bits[0], (bits[1] if len(bits) > 1 else None), (bits[2] if len(bits) > 2 else None)


def birth_level(query: Record, candidate: Record) -> tuple[str, str, str]:
    """The closest pair of birth dates, as a level: a full date equal, day and month swapped, the same year where
    one side knows only the year, one year apart where one side is estimated or year-only, ..."""
    if not query.birth_dates or not candidate.birth_dates:
        return "unknown", "", ""
    order = ("same_date", "day_month_swapped", "same_year", "year_near", "same_year_other_day", "different")
    best = ("different", query.birth_dates[0], candidate.birth_dates[0])
    for q in query.birth_dates:
        for c in candidate.birth_dates:
            level = _date_level(q, c, query.birth_estimated)
            if order.index(level) < order.index(best[0]):
                best = (level, q, c)
    return best


def _date_level(q: str, c: str, estimated: bool) -> str:
    (qy, qm, qd), (cy, cm, cd) = _parts(q), _parts(c)
    full = qd is not None and cd is not None and not estimated
    if full and (qy, qm, qd) == (cy, cm, cd):
        return "same_date"
    if full and qy == cy and (qm, qd) == (cd, cm):
        return "day_month_swapped"
    if qy == cy:
        return "same_year_other_day" if full else "same_year"
    if abs(qy - cy) == 1 and not full:
        return "year_near"
    return "different"


def set_level(a: Iterable[str], b: Iterable[str]) -> str:
    a, b = set(a), set(b)
    if not a or not b:
        return "unknown"
    return "match" if a & b else "different"


def sex_level(a: str | None, b: str | None) -> str:
    if not a or not b or a not in "MF" or b not in "MF":
        return "unknown"
    return "match" if a == b else "different"


def document_level(query: Record, candidate: Record) -> tuple[str, str]:
    if not query.documents or not candidate.documents:
        return "unknown", ""
    theirs = {(document_key(n), s) for n, s in candidate.documents}
    for number, state in query.documents:
        key = document_key(number)
        if any(key == n and (state is None or s is None or state == s) for n, s in theirs):
            return "match", number
    return "different", ""


def face_level(distance: float) -> tuple[str, float, float]:
    for ceiling, level, m, u in FACE_BANDS:
        if distance <= ceiling:
            return level, m, u
    return FACE_FAR


def finger_level(score: float) -> tuple[str, float, float]:
    for floor, level, m, u in FINGER_BANDS:
        if score >= floor:
            return level, m, u
    return FINGER_WEAK


# -- the model ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """m and u per field and level, and the prior odds (in bits) that a retrieved candidate is the person."""

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior_bits: float
    # The count of the name a random calibration entry held: the name levels' u are averages over names of that
    # commonness. A candidate's name held by c entries changes u by c / this (Splink's term-frequency adjustment);
    # kept from calibration, not taken from the live list, so that the adjustment depends on c alone as the list grows.
    name_mean_count: float = 1.0

    def bits(self, feature: str, level: str) -> float:
        m, u = self.m.get(feature, {}).get(level), self.u.get(feature, {}).get(level)
        if m is None or u is None or level == "unknown":
            return 0.0
        return math.log2(m / u)

    def rarity_bits(self, count: int) -> float:
        """The term-frequency adjustment for a name held by ``count`` entries, bounded."""
        return max(-RARITY_CAP, min(RARITY_CAP, math.log2(self.name_mean_count / max(count, 1))))

    def to_json(self) -> str:
        data = {"m": self.m, "u": self.u, "prior_bits": self.prior_bits, "name_mean_count": self.name_mean_count}
        return json.dumps(data, indent=1, sort_keys=True)


@cache
def default_model() -> Model:
    data = json.loads(CALIBRATION.read_text())
    return Model(data["m"], data["u"], data["prior_bits"], data["name_mean_count"])


RARITY_CAP = 8.0
# Name levels where the candidate's own name is (nearly) the value matched, so its frequency is the evidence's.
FREQUENCY_LEVELS = ("exact", "strong", "close")
FIELDS = ("name", "birth", "nationality", "sex", "document")


def fit(
    matches: Sequence[dict[str, str]], non_matches: Sequence[dict[str, str]], prior: float, name_mean_count: float
) -> Model:
    """Count levels in labelled comparisons (Laplace-smoothed), as Splink's supervised estimation does."""

    def shares(rows: Sequence[dict[str, str]]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for feature in FIELDS:
            counts = Counter(row[feature] for row in rows)
            levels = set(counts) | set(LEVELS[feature])
            total = sum(counts.values()) + len(levels)
            out[feature] = {level: round((counts[level] + 1) / total, 6) for level in sorted(levels)}
        return out

    return Model(
        shares(matches), shares(non_matches), round(math.log2(prior / (1 - prior)), 4), round(name_mean_count, 2)
    )


LEVELS = {
    "name": ("exact", "strong", "close", "partial", "weak"),
    "birth": (
        "same_date",
        "day_month_swapped",
        "same_year",
        "year_near",
        "same_year_other_day",
        "different",
        "unknown",
    ),
    "nationality": ("match", "different", "unknown"),
    "sex": ("match", "different", "unknown"),
    "document": ("match", "different", "unknown"),
}


# -- one comparison ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Term:
    """One line of an explanation: a field (or modality), the level it came out at, and its weight in bits."""

    feature: str
    level: str
    bits: float
    query: str = ""
    candidate: str = ""


@dataclass(frozen=True)
class Scored:
    candidate_id: str
    probability: float
    bits: float
    terms: tuple[Term, ...]
    name: N.NameMatch = field(repr=False)

    def explanation(self) -> list[dict[str, object]]:
        return [
            {
                "feature": t.feature,
                "level": t.level,
                "bits": round(t.bits, 2),
                "query": t.query,
                "candidate": t.candidate,
            }
            for t in self.terms
        ]


def levels(query: Record, candidate: Record) -> tuple[dict[str, str], N.NameMatch, tuple[str, str]]:
    name = best_name(query, candidate)
    birth, qb, cb = birth_level(query, candidate)
    document, _ = document_level(query, candidate)
    return (
        {
            "name": name_level(name.score),
            "birth": birth,
            "nationality": set_level(query.nationalities, candidate.nationalities),
            "sex": sex_level(query.sex, candidate.sex),
            "document": document,
        },
        name,
        (qb, cb),
    )


def score(
    query: Record,
    candidate: Record,
    model: Model | None = None,
    *,
    face_distance: float | None = None,
    finger_score: float | None = None,
    name_count: Callable[[str], int] | None = None,
) -> Scored:
    """``name_count`` tells how many entries of the list hold the candidate's matched name (the index's
    ``name_count``), for the term-frequency adjustment."""
    model = model or default_model()
    found, name, (qb, cb) = levels(query, candidate)
    shown = {
        "name": (name.query, name.candidate),
        "birth": (qb, cb),
        "nationality": (",".join(query.nationalities), ",".join(candidate.nationalities)),
        "sex": (query.sex or "", candidate.sex or ""),
        "document": (",".join(n for n, _ in query.documents), ",".join(n for n, _ in candidate.documents)),
    }
    terms = [Term(f, found[f], model.bits(f, found[f]), *shown[f]) for f in FIELDS]
    if name_count is not None and found["name"] in FREQUENCY_LEVELS:
        count = name_count(name.candidate)
        bits = model.rarity_bits(count)
        terms.insert(1, Term("name_frequency", "rare" if bits >= 0 else "common", bits, "", f"{count}"))
    if face_distance is not None:
        level, m, u = face_level(face_distance)
        terms.append(Term("face", level, math.log2(m / u), f"{face_distance:.3f}"))
    if finger_score is not None:
        level, m, u = finger_level(finger_score)
        terms.append(Term("finger", level, math.log2(m / u), f"{finger_score:.0f}"))
    total = sum(t.bits for t in terms)
    probability = 1 / (1 + 2 ** -(model.prior_bits + total))
    return Scored(candidate.id, round(probability, 4), round(total, 3), tuple(terms), name)
