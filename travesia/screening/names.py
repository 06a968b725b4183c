"""Name analysis for screening: one name in any script becomes Latin tokens with the keys that find it again
however it was written down. Pure functions, no database.

The hard cases of this flow and what handles each:
- other scripts: ``anyascii`` transliterates (Cyrillic, Arabic, Persian, Devanagari); Chinese characters are one
  syllable each, so an unsegmented 习近平 becomes "xi jin ping" and is compared with "Xi Jinping" as one string too;
- Arabic and Persian written without short vowels (محمد → "mhmd"): the consonant skeleton ("mhmd" for Mohammed
  and Muhammad alike) and the article ال / al- / el- dropped;
- phonetic spellings (Youssef, Yusuf): the skeleton and jellyfish's metaphone;
- Haitian Creole spellings of French names (Jan Pyè for Jean Pierre): a small table of equivalents, which no
  library we found carries (rigour's name symbols do not);
- Spanish double surnames in either order or one missing, particles (de, del, la): tokens compared as a set,
  particles dropped, the missing surname costing less than a wrong one (see ``scoring``);
- typos: rapidfuzz's Jaro-Winkler on tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler

# Words that carry no identity of their own: dropped before comparison and from the index.
PARTICLES = frozenset(
    [
        "de",
        "del",
        "la",
        "las",
        "los",
        "y",
        "e",
        "da",
        "do",
        "dos",
        "das",
        "di",
        "du",
        "le",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "al",
        "el",
        "ul",
        "bin",
        "ben",
        "ibn",
        "bint",
        "binti",
        "ould",
    ]
)

# Haitian Creole (and some West African French) spellings of French given names, mapped to the French form.
# Built by hand from Creole orthography (è for -ère/-erre, w for r before a vowel, j for ge/gi); extend as needed.
CREOLE = {
    "jan": "jean",
    "pyè": "pierre",
    "pye": "pierre",
    "jak": "jacques",
    "jozèf": "joseph",
    "jozef": "joseph",
    "mari": "marie",
    "pòl": "paul",
    "pol": "paul",
    "lwi": "louis",
    "franswa": "francois",
    "jilbè": "gilbert",
    "jilbe": "gilbert",
    "wobè": "robert",
    "wobe": "robert",
    "jera": "gerard",
    "jèra": "gerard",
    "woje": "roger",
    "anri": "henri",
    "mikèl": "michel",
    "mishèl": "michel",
    "jòj": "georges",
    "wilnè": "wilner",
    "wilne": "wilner",
    "klod": "claude",
    "temoten": "timothee",
    "antwan": "antoine",
    "jistin": "justin",
    "wozlin": "roseline",
    "sòn": "saint",
    "lwiz": "louise",
}

# Arabic-script letters that write a long vowel or a glide: dropped from the skeleton like Latin vowels.
_VOWELS = set("aeiouyw")
_DIGRAPHS = (("ph", "f"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("z", "s"), ("v", "b"), ("c", "k"), ("dh", "d"))
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ARABIC_ARTICLE = re.compile(r"(?<![\w])ال(?=\w)")


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def transliterate(text: str) -> str:
    """Latin letters for any script; each Chinese character stands alone, as the syllable it is."""
    text = _ARABIC_ARTICLE.sub("", unicodedata.normalize("NFC", text))
    if any(_is_han(c) for c in text):
        text = " ".join(anyascii(c) if _is_han(c) else c for c in text)
    return anyascii(text).lower()


def creole(token: str) -> str:
    return CREOLE.get(token, token)


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """Consonants only, doubled letters once, after a few spelling equivalences: Mohammed, Muhammad and the
    unvowelled محمد all give "mhmd"."""
    for a, b in _DIGRAPHS:
        token = token.replace(a, b)
    out: list[str] = []
    for char in token:
        if char in _VOWELS or char.isdigit():
            continue
        if not out or out[-1] != char:
            out.append(char)
    return "".join(out)


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    return jellyfish.metaphone(token) if token.isalpha() else token


def tokens(name: str) -> tuple[str, ...]:
    """A name's comparable tokens: creole spellings folded to the French ones (before transliteration drops the
    accent that marks them), transliterated, lower case, particles dropped."""
    words = [creole(w) for w in unicodedata.normalize("NFC", name).lower().split()]
    latin = _NON_WORD.sub(" ", transliterate(" ".join(words)))
    parts = [creole(t) for t in latin.split()]
    kept = tuple(t for t in parts if t not in PARTICLES)
    return kept or tuple(parts)


@dataclass(frozen=True, slots=True)
class NameForm:
    """One analysed name: its tokens, and the tokens run together (for scripts written without spaces)."""

    text: str
    tokens: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.tokens)


def analyse(name: str) -> NameForm:
    return NameForm(name, tokens(name))


def keys(form: NameForm) -> set[str]:
    """Index keys: each token's skeleton, metaphone and letters in order (a transposed pair of letters, the
    commonest typo, keeps it), and those of adjacent tokens run together, so that "xi jin ping" and "xi jinping"
    share "jinping"."""
    out: set[str] = set()
    parts = list(form.tokens)
    parts += [a + b for a, b in zip(form.tokens, form.tokens[1:], strict=False)]
    for token in parts:
        skel = skeleton(token)
        if len(skel) >= 2:
            out.add("s:" + skel)
        out.add("p:" + phonetic(token))
        if len(token) >= 4:
            out.add("a:" + "".join(sorted(token)))
    return out


PAIR_FLOOR = 0.75  # below this two tokens are different names (García, Martínez: 0.63), not a misspelling
JOINED_FLOOR = 0.95  # names run together must agree almost letter for letter to count


@lru_cache(maxsize=500_000)
def token_similarity(a: str, b: str) -> float:
    """1.0 for the same token; 0.92 for the same skeleton or sound (Yusuf, Youssef); else Jaro-Winkler, which
    forgives a transposed or dropped letter."""
    if a == b:
        return 1.0
    if (len(a) > 2 and skeleton(a) == skeleton(b) and len(skeleton(a)) >= 2) or (
        len(a) > 3 and len(b) > 3 and phonetic(a) == phonetic(b)
    ):
        return 0.92
    return JaroWinkler.normalized_similarity(a, b)


@dataclass(frozen=True, slots=True)
class NameMatch:
    score: float
    pairs: tuple[tuple[str, str, float], ...]  # query token, candidate token, similarity
    query: str
    candidate: str


def compare(query: NameForm, candidate: NameForm) -> NameMatch:
    """Align the tokens (greedy on the best pairs first), then score: matched similarity over what was matched
    plus a light charge for tokens on either side that found no partner, so a missing second surname costs
    little and a wrong one costs a lot. Names in scripts without spaces are also compared run together."""
    q, c = query.tokens, candidate.tokens
    if not q or not c:
        return NameMatch(0.0, (), query.text, candidate.text)
    sims = sorted(((token_similarity(a, b), i, j) for i, a in enumerate(q) for j, b in enumerate(c)), reverse=True)
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[str, str, float]] = []
    total = 0.0
    for sim, i, j in sims:
        if i in used_q or j in used_c or sim < PAIR_FLOOR:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((q[i], c[j], round(sim, 3)))
        total += sim
    unmatched = (len(q) - len(used_q)) + (len(c) - len(used_c))
    score = total / (len(pairs) + 0.35 * unmatched) if pairs else 0.0
    if len(q) != len(c):  # one side may have a name written without spaces
        joined = JaroWinkler.normalized_similarity(query.joined, candidate.joined)
        if joined >= JOINED_FLOOR and joined > score:
            score, pairs = joined, [(query.joined, candidate.joined, round(joined, 3))]
    return NameMatch(round(score, 4), tuple(pairs), query.text, candidate.text)
