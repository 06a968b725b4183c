"""Two names written in different scripts: how likely they are the same name, from a logistic model fitted on real
cross-script pairs. Pure (the weights come from ``calibration.json``).

Letter similarity alone misleads here: between a Hebrew or Korean rendering and a Latin spelling, unrelated names
often agree on a token or two by chance, while true pairs agree weakly but everywhere. The features say both:
the aligned tokens (average, weakest, strongest, how many of each side found a partner) and the whole names run
together (letters, folded letters, consonant classes). ``bench/screening.py --calibrate`` fits the weights on
the development part of ``../shared/data/names`` (Wikidata persons in Hebrew and Korean against their Latin
names, hard negatives from the candidate index) and reports on the held-out part it never fits on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

from travesia.screening import lexicon, scripts
from travesia.screening import names as N

CONFIRMED = 0.97  # letters that agree this well are the same word without the lexicon's word for it

FEATURES = (
    "aligned",  # the token alignment's own score
    "pair_mean",
    "pair_min",
    "pair_max",
    "query_covered",  # share of the query's tokens that found a partner
    "candidate_covered",
    "joined_letters",
    "joined_folded",
    "joined_sound",
    "joined_skeleton",  # consonants only, as an abjad writes them
    "abjad",  # one side written without short vowels
    "token_gap",  # difference in token counts
    "confirmed_query",  # share of the query's tokens whose partner is the same word (letters, or the lexicon)
    "confirmed_candidate",
)

# Probability bands of the fitted model: the levels the Fellegi-Sunter model weighs (m and u fitted on real names).
LEVELS = ((0.9, "script_strong"), (0.7, "script_close"), (0.5, "script_fair"), (0.3, "script_partial"))
WEAK = "script_weak"


def features(query: N.NameForm, candidate: N.NameForm, match: N.NameMatch) -> tuple[float, ...]:
    sims = [pair[2] for pair in match.pairs] or [0.0]
    nq, nc = max(len(query.tokens), 1), max(len(candidate.tokens), 1)
    c = candidate.joined
    confirmed = sum(len(a) > 1 and (sim >= CONFIRMED or lexicon.known(a, b)) for a, b, sim in match.pairs)
    # the names run together in either order of the first token (a surname written first on one side)
    orders = {query.joined, "".join(query.tokens[1:] + query.tokens[:1])}
    return (
        match.score,
        sum(sims) / len(sims),
        min(sims),
        max(sims),
        min(len(match.pairs) / nq, 1.0),
        min(len(match.pairs) / nc, 1.0),
        max(JaroWinkler.normalized_similarity(q, c) for q in orders),
        max(JaroWinkler.normalized_similarity(scripts.fold(q), scripts.fold(c)) for q in orders),
        max(Levenshtein.normalized_similarity(scripts.sound(q), scripts.sound(c)) for q in orders),
        max(Levenshtein.normalized_similarity(N.skeleton(q), N.skeleton(c)) for q in orders),
        float(N.crossing(query, candidate) == N.ABJAD),
        float(abs(nq - nc)),
        confirmed / nq,
        confirmed / nc,
    )


@lru_cache(maxsize=100_000)
def remembered(
    weights: tuple[float, ...], intercept: float, match: N.NameMatch, query: N.NameForm, candidate: N.NameForm
) -> float:
    """The model's probability for one comparison, remembered (a name is compared with the same candidates again
    and again: an alias pair chosen, then scored)."""
    if not match.pairs:  # no word of one found a partner in the other: the model never saw such pairs as one name
        return 0.0
    return probability(features(query, candidate, match), weights, intercept)


# Bounds on the cross-script name's weight: a logistic model is surest where it saw least (its tails), and a name
# alone, in another script, should not outweigh a document number (+15 bits) or a full date (+11.6).
CAP, FLOOR = 12.0, -10.0


def weight(p: float, base_bits: float) -> float:
    """The model's likelihood ratio in bits: its log-odds less the log-odds of the comparisons it was fitted on
    (``base_bits``), bounded."""
    odds = math.log2(max(p, 1e-12) / max(1 - p, 1e-12))
    return max(FLOOR, min(CAP, odds - base_bits))


def probability(values: Sequence[float], weights: Sequence[float], intercept: float) -> float:
    z = intercept + sum(w * v for w, v in zip(weights, values, strict=True))
    return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


# The letters' own verdict, as a floor under the model's: romanised tokens that agree this well are the same name
# in any script, including scripts the model saw little of (it is fitted on Hebrew and Korean).
LETTER_FLOORS = ((0.97, "script_strong"), (0.9, "script_close"), (0.82, "script_fair"))


def level(p: float, letters: float) -> str:
    """The band of the model's probability, or of the aligned letters' score if that is higher."""
    order = [name for _, name in LEVELS] + [WEAK]
    found = next((name for floor, name in LEVELS if p >= floor), WEAK)
    floor = next((name for at, name in LETTER_FLOORS if letters >= at), WEAK)
    return min(found, floor, key=order.index)
