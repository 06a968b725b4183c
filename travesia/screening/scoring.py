"""Fused, calibrated, explainable scores for one query against one candidate. Pure.

The model is Fellegi–Sunter's, as Splink uses it: each field is compared into a level ("same date", "one year
apart", ...), and each level carries a log-likelihood ratio, log2(m/u), where m is how often true matches show that
level and u how often non-matches do. The ratios of the fields add up (they are treated as independent given the
match status), a prior turns the sum into a probability, and the explanation is the list of terms: which field, at
which level, added or took away how many bits.

Where m and u come from:
- names, birth dates, nationality, sex and documents: counted on a labelled synthetic set (planted variants among
  retrieved candidates) by ``bench/screening.py --calibrate``, written to ``calibration.json`` beside this file;
- face and fingerprints: the biometric step's own log-likelihood ratios, calibrated on LFW and FVC2002
  (``biometrics/evidence.py``), passed in as terms; a biometric comparison is evidence like any other field, never
  a decision.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from travesia.screening import across, dates
from travesia.screening import names as N

CALIBRATION = Path(__file__).with_name("calibration.json")


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


SUBSET_FLOOR = 0.9  # the names both sides share must agree at least this well for a dropped name to be "subset"


def latin_name_level(match: N.NameMatch) -> str:
    """The level of two names in one script; a name with a given name or surname dropped (José Pérez for José
    Gregorio Pérez Núñez) is its own level, weighed by what calibration finds: weak evidence against, not a veto."""
    level = name_level(match.score)
    loose = level in ("close", "partial", "weak")
    if loose and match.covered and min(sim for _, _, sim in match.pairs) >= SUBSET_FLOOR:
        return "subset"
    return level


def best_pair(
    query: Record, candidate: Record, model: Model | None = None
) -> tuple[N.NameMatch, N.NameForm | None, N.NameForm | None]:
    """The pair of the two records' names that is the evidence, with the analysed names it came from: the pair
    that weighs most among those written in one script, and only where the two records share no script, the one
    that weighs most across scripts. A list's own spelling in the officer's script is the better witness: the
    cross-script model is fitted on real renderings, which often disagree on a word, so it forgives a word that
    disagrees where the same-script comparison rightly does not (Ibrahim Rebe is not Ibrahim Mansour, whatever
    the Arabic alias of the latter says)."""
    model = model or default_model()
    best, forms, most = N.NameMatch(0.0, (), "", ""), (None, None), (False, -math.inf)
    for q in analysed(query.names):
        for c in analysed(candidate.names):
            found = N.compare(q, c)
            if found.score <= 0:
                continue
            rank = (not N.crossing(q, c), model.name_bits(model.name_level(found, q, c), found, q, c))
            if rank > most:
                best, forms, most = found, (q, c), rank
    return best, *forms


def birth_level(query: Record, candidate: Record) -> tuple[str, str, str]:
    """The closest pair of birth dates, as a level (``dates``), with the two dates compared."""
    if not query.birth_dates or not candidate.birth_dates:
        return "unknown", "", ""
    return dates.closest(query.birth_dates, candidate.birth_dates, query.birth_estimated)


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
    # The cross-script name model (``across``): weights per feature and intercept, fitted on real names.
    across: dict[str, object] = field(default_factory=dict)

    def name_level(self, match: N.NameMatch, query: N.NameForm | None, candidate: N.NameForm | None) -> str:
        """The name's level: by the letters within one script, by the fitted model across two."""
        p = self.across_probability(match, query, candidate)
        return latin_name_level(match) if p is None else across.level(p, match.score)

    def across_probability(
        self, match: N.NameMatch, query: N.NameForm | None, candidate: N.NameForm | None
    ) -> float | None:
        """The cross-script model's probability that two names in different scripts are one name (None within one
        script)."""
        if query is None or candidate is None or not N.crossing(query, candidate) or not self.across:
            return None
        weights = tuple(float(w) for w in self.across["weights"])  # type: ignore[union-attr]
        return across.remembered(weights, float(self.across["intercept"]), match, query, candidate)  # type: ignore[arg-type]

    def name_bits(
        self, level: str, match: N.NameMatch, query: N.NameForm | None, candidate: N.NameForm | None
    ) -> float:
        """The name's weight of evidence. Across two scripts it is the model's own likelihood ratio — its log-odds
        less the log-odds of the comparisons it was fitted on —, bounded: continuous, so that a near-certain
        rendering outranks a likely one within a band (bands alone tie them, and a threshold then cuts through a
        tie). Within one script, the level's m and u."""
        p = self.across_probability(match, query, candidate)
        base = self.across.get("base_bits")
        if p is None or base is None:
            return self.bits("name", level)
        return across.weight(p, float(base))  # type: ignore[arg-type]

    def bits(self, feature: str, level: str) -> float:
        m, u = self.m.get(feature, {}).get(level), self.u.get(feature, {}).get(level)
        if m is None or u is None or level == "unknown":
            return 0.0
        return math.log2(m / u)

    def rarity_bits(self, count: int) -> float:
        """The term-frequency adjustment for a name held by ``count`` entries, bounded."""
        return max(-RARITY_CAP, min(RARITY_CAP, math.log2(self.name_mean_count / max(count, 1))))

    def to_json(self) -> str:
        data = {
            "m": self.m,
            "u": self.u,
            "prior_bits": self.prior_bits,
            "name_mean_count": self.name_mean_count,
            "across": self.across,
        }
        return json.dumps(data, indent=1, sort_keys=True)


def clear_caches() -> None:
    """Forget remembered comparisons (after the lexicon or the calibration changed under a running process)."""
    across.remembered.cache_clear()
    default_model.cache_clear()


@cache
def default_model() -> Model:
    data = json.loads(CALIBRATION.read_text())
    return Model(data["m"], data["u"], data["prior_bits"], data["name_mean_count"], data.get("across", {}))


RARITY_CAP = 8.0
# Only an exact name is the candidate's own name, so only there does its frequency say how likely a stranger is to
# share it (as Splink applies term frequencies on exact matches only); "Sergei Lecogoov" being rare says nothing of
# how many entries are near "Sergei Derogoov".
FREQUENCY_LEVELS = ("exact",)
# Across scripts the u was measured on real names, nearly all held once: a name held by c entries is c times as
# likely to be met by chance as those were, so it loses log2(c) bits (and a unique name gains nothing).
SCRIPT_FREQUENCY_LEVELS = ("script_strong", "script_close", "script_fair", "script_partial")
FIELDS = ("name", "birth", "nationality", "sex", "document")


def fit(
    matches: Sequence[dict[str, str]], non_matches: Sequence[dict[str, str]], prior: float, name_mean_count: float
) -> Model:
    """Count levels in labelled comparisons (Laplace-smoothed), as Splink's supervised estimation does. The u are
    counted on the candidates retrieval really returns, so they carry what retrieval and the name already imply
    (namesakes share a nationality; retrieval prefers a birth year near the query's). A level neither side ever
    showed is worth nothing either way (smoothing alone would give it the ratio of the two sides' sizes)."""

    def counted(rows: Sequence[dict[str, str]]) -> dict[str, Counter[str]]:
        return {feature: Counter(row[feature] for row in rows) for feature in FIELDS}

    def shares(counts: dict[str, Counter[str]]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for feature, found in counts.items():
            out[feature] = {}
            for group in LEVEL_GROUPS.get(feature, (tuple(set(found) | set(LEVELS[feature])),)):
                total = sum(found[level] for level in group) + len(group)
                out[feature].update({level: round((found[level] + 1) / total, 6) for level in sorted(group)})
        return out

    m_counts, u_counts = counted(matches), counted(non_matches)
    m, u = shares(m_counts), shares(u_counts)
    for feature, levels in m.items():
        for level in levels:
            if m_counts[feature][level] == 0 and u_counts[feature][level] == 0:
                u[feature][level] = levels[level]
    return Model(m, u, round(math.log2(prior / (1 - prior)), 4), round(name_mean_count, 2))


# Levels that only some comparisons can reach are counted within their group: two full dates can agree to the day,
# a year-only or estimated date only to the year. Whether a date is full does not depend on whether the two are
# the same person, so the ratio within the group is the evidence (counted over all comparisons, a year-only
# agreement would look rare among true matches only because most of them have full dates).
LEVEL_GROUPS = {"birth": (*dates.GROUPS, ("unknown",))}

LEVELS = {
    "name": (
        "exact",
        "strong",
        "subset",
        "close",
        "partial",
        "weak",
        *(name for _, name in across.LEVELS),
        across.WEAK,
    ),
    "birth": (*dates.LEVELS, "unknown"),
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


def levels(
    query: Record, candidate: Record, model: Model | None = None
) -> tuple[dict[str, str], N.NameMatch, tuple[str, str]]:
    model = model or default_model()
    name, q_form, c_form = best_pair(query, candidate, model)
    birth, qb, cb = birth_level(query, candidate)
    document, _ = document_level(query, candidate)
    return (
        {
            "name": model.name_level(name, q_form, c_form),
            "birth": birth,
            "nationality": set_level(query.nationalities, candidate.nationalities),
            "sex": sex_level(query.sex, candidate.sex),
            "document": document,
        },
        name,
        (qb, cb),
    )


def _read_as(form: N.NameForm) -> str:
    return f"{form.script}: {' '.join(form.tokens)}"


def score(
    query: Record,
    candidate: Record,
    model: Model | None = None,
    *,
    biometric: Sequence[Mapping[str, object]] = (),
    name_count: Callable[[str], int] | None = None,
) -> Scored:
    """``biometric``: the biometric step's calibrated terms against this candidate (a fused candidate's
    ``evidence["terms"]``: feature, level, bits, detail), added as they are. ``name_count`` tells how many entries
    of the list hold the candidate's matched name (the index's ``name_count``), for the term-frequency
    adjustment."""
    model = model or default_model()
    found, name, (qb, cb) = levels(query, candidate, model)
    shown = {
        "name": (name.query, name.candidate),
        "birth": (qb, cb),
        "nationality": (",".join(query.nationalities), ",".join(candidate.nationalities)),
        "sex": (query.sex or "", candidate.sex or ""),
        "document": (",".join(n for n, _ in query.documents), ",".join(n for n, _ in candidate.documents)),
    }
    q_form, c_form = (analysed((name.query,))[0], analysed((name.candidate,))[0]) if name.query else (None, None)
    terms = [Term(f, found[f], model.bits(f, found[f]), *shown[f]) for f in FIELDS]
    terms[0] = dataclasses.replace(terms[0], bits=model.name_bits(found["name"], name, q_form, c_form))
    if q_form is not None and c_form is not None and N.crossing(q_form, c_form):
        # how each side was read: its script, and the Latin letters compared
        terms.insert(1, Term("name_script", "across_scripts", 0.0, _read_as(q_form), _read_as(c_form)))
    if name_count is not None and found["name"] in FREQUENCY_LEVELS + SCRIPT_FREQUENCY_LEVELS:
        count = name_count(name.candidate)
        bits = (
            model.rarity_bits(count)
            if found["name"] in FREQUENCY_LEVELS
            else -min(math.log2(max(count, 1)), RARITY_CAP)
        )
        terms.insert(1, Term("name_frequency", "rare" if bits >= 0 else "common", bits, "", f"{count}"))
    terms += [Term(str(t["feature"]), str(t["level"]), float(t["bits"]), str(t.get("detail", ""))) for t in biometric]  # type: ignore[arg-type]
    total = sum(t.bits for t in terms)
    probability = 1 / (1 + 2 ** -(model.prior_bits + total))
    return Scored(candidate.id, round(probability, 4), round(total, 3), tuple(terms), name)
