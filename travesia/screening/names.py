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
from rapidfuzz.distance import JaroWinkler, Levenshtein

from travesia.screening import lexicon, scripts

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


def transliterate(text: str, script: str | None = None) -> str:
    """Latin letters for any script, with each script's corrections (``scripts.romanise``)."""
    text = _ARABIC_ARTICLE.sub("", unicodedata.normalize("NFC", text))
    return scripts.romanise(text, script or scripts.script_of(text))


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
    if len(out) > 2 and out[-1] == "h":  # a final h is a vowel's (Abdullah, Abdalla; Fatimah, Fatima)
        out.pop()
    return "".join(out)


_GLUED_ARTICLE = re.compile(r"^(?:al|el|ul)(?=[bcdfghjklmnpqrstvwxz]{1,2}[aeiou])")


def without_article(token: str) -> str:
    """An Arabic article written onto the name (Elsayed, Alhassan) taken off, as a separate one is."""
    rest = _GLUED_ARTICLE.sub("", token)
    return rest if len(rest) >= 3 else token


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str:
    return jellyfish.metaphone(token) if token.isalpha() else token


def tokens(name: str, script: str | None = None) -> tuple[str, ...]:
    """A name's comparable tokens: creole spellings folded to the French ones (before transliteration drops the
    accent that marks them), transliterated, lower case, particles dropped."""
    words = [creole(w) for w in unicodedata.normalize("NFC", name).lower().split()]
    latin = _NON_WORD.sub(" ", transliterate(" ".join(words), script))
    parts = [creole(t) for t in latin.split()]
    if script in ("Han", "Hangul"):  # a syllable there is never a particle (Do, Da, Li are names)
        return tuple(parts)
    kept = tuple(t for t in parts if t not in PARTICLES)
    return servant_names(kept or tuple(parts))


_ABD = frozenset({"abd", "abdu", "abdul", "abdel", "abdal", "abdoul", "abdol", "bd"})
_ABD_GLUED = re.compile(r"^(?:abd(?:ul|el|al|oul|ol|u)?|bd)(?=[bcdfghjklmnpqrstvwxz])")


def servant_names(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Arabic "servant of" names as one token in one spelling: Abd al-Rahman, Abdel Rahman, Abdulrahman and the
    unvowelled عبد الرحمن all become "abd" + the rest (abdrahman, abdrhmn), which then compare letter by letter."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        token = parts[i]
        if token in _ABD and i + 1 < len(parts):
            out.append("abd" + parts[i + 1])
            i += 2
            continue
        glued = _ABD_GLUED.match(token)
        out.append("abd" + token[glued.end() :] if glued and len(token) - glued.end() >= 3 else token)
        i += 1
    return tuple(out)


@dataclass(frozen=True, slots=True)
class NameForm:
    """One analysed name: its tokens, the script it was written in, and the tokens run together (for scripts
    written without spaces)."""

    text: str
    tokens: tuple[str, ...]
    script: str = scripts.LATIN

    @property
    def joined(self) -> str:
        return "".join(self.tokens)


def analyse(name: str) -> NameForm:
    script = scripts.script_of(name)
    return NameForm(name, tokens(name, script), script)


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
        if len(sound := scripts.sound(token)) >= 2:
            out.add("k:" + sound)
    return out


PAIR_FLOOR = 0.75  # below this two tokens are different names (García, Martínez: 0.63), not a misspelling
JOINED_FLOOR = 0.95  # names run together must agree almost letter for letter to count


LEXICON_SAME = 0.95  # a pair of words seen as renderings of one name (``lexicon``): below letters that agree


@lru_cache(maxsize=500_000)
def token_similarity(a: str, b: str, cross: int = 0) -> float:
    """How alike two tokens are as names: their spelling (``spelling_similarity``), and between two scripts
    whether the pair was seen as renderings of one name word (``lexicon``), which spelling cannot know (제이슨,
    jeiseun, is Jason)."""
    found = spelling_similarity(a, b, cross)
    if cross and found < LEXICON_SAME and lexicon.known(a, b):
        return LEXICON_SAME
    return found


@lru_cache(maxsize=500_000)
def spelling_similarity(a: str, b: str, cross: int = 0) -> float:
    """1.0 for the same token; 0.92 for the same skeleton or sound (Yusuf, Youssef); else Jaro-Winkler, which
    forgives a transposed or dropped letter. Between two scripts (``cross``) also the sound keys' agreement, below
    any letter-level match: a transliteration and a spelling by ear differ in letters, not in consonant classes.
    An Arabic article written onto either name is also tried without it (Alhamdi, Hamdi)."""
    if a == b:
        return 1.0
    found = _token_similarity(a, b, cross)
    bare_a, bare_b = without_article(a), without_article(b)
    if (bare_a, bare_b) != (a, b):
        found = max(found, 0.97 * (1.0 if bare_a == bare_b else _token_similarity(bare_a, bare_b, cross)))
    return found


def _token_similarity(a: str, b: str, cross: int) -> float:
    if a == b:
        return 1.0
    if (len(a) > 2 and skeleton(a) == skeleton(b) and len(skeleton(a)) >= 2) or (
        len(a) > 3 and len(b) > 3 and phonetic(a) == phonetic(b)
    ):
        return 0.92
    letters = JaroWinkler.normalized_similarity(a, b)
    if not cross:
        return letters
    if cross == VOWELLED:
        return max(letters, FOLDED * JaroWinkler.normalized_similarity(scripts.fold(a), scripts.fold(b)))
    return max(letters, sound_similarity(a, b, letters))


VOWELLED, ABJAD = 1, 2  # how two names in different scripts are compared (``crossing``)
FOLDED = 0.96  # folded letters agreeing is a little less than the letters agreeing


SOUND_SAME = 0.9  # the same consonant classes, two or more of them
SOUND_SHORT = 0.8  # the same single class (Soo, Su): agreement, but little of it


def sound_similarity(a: str, b: str, letters: float) -> float:
    """Agreement of the sound keys, graded by how far the letters also agree (a transliteration keeps more of
    them than a different name of the same consonant classes does)."""
    sa, sb = scripts.sound(a), scripts.sound(b)
    if not sa or not sb:
        return 0.0
    if sa == sb:
        return (SOUND_SAME if len(sa) >= 2 else SOUND_SHORT) - 0.15 * (1 - letters)
    if min(len(sa), len(sb)) < 3:
        return 0.0
    # Levenshtein, not Jaro-Winkler: class strings are short and Jaro-Winkler forgives too much in them.
    return SOUND_SAME * Levenshtein.normalized_similarity(sa, sb)


def _units(tokens: tuple[str, ...], glue: bool) -> list[tuple[tuple[int, ...], str]]:
    units = [((i,), token) for i, token in enumerate(tokens)]
    if glue:
        units += [((i, i + 1), tokens[i] + tokens[i + 1]) for i in range(len(tokens) - 1)]
    return units


def crossing(query: NameForm, candidate: NameForm) -> int:
    """0 for two names in one script; else whether one is in a script without short vowels (compare consonants
    only) or both write vowels (compare folded letters)."""
    if query.script == candidate.script:
        return 0
    return ABJAD if {query.script, candidate.script} & scripts.ABJADS else VOWELLED


def _joined_similarity(query: NameForm, candidate: NameForm, cross: int) -> float:
    """The names run together (in either order of the first token, for a surname written first), if they agree
    almost letter for letter or, between scripts and where one side is a single word, in every consonant class
    (four at least)."""
    best = 0.0
    single = min(len(query.tokens), len(candidate.tokens)) == 1
    for q in {query.joined, "".join(query.tokens[1:] + query.tokens[:1])}:
        letters = JaroWinkler.normalized_similarity(q, candidate.joined)
        if letters >= JOINED_FLOOR:
            best = max(best, letters)
        key = scripts.sound(q)
        if cross and single and len(key) >= 4 and key == scripts.sound(candidate.joined):
            best = max(best, SOUND_SAME)
    return best


@dataclass(frozen=True, slots=True)
class NameMatch:
    score: float
    pairs: tuple[tuple[str, str, float], ...]  # query token, candidate token, similarity
    query: str
    candidate: str
    covered: bool = False  # every token of the shorter name found a partner in the longer (names dropped, not wrong)


def compare(query: NameForm, candidate: NameForm) -> NameMatch:
    """Align the tokens (greedy on the best pairs first), then score: matched similarity over what was matched
    plus a light charge for tokens on either side that found no partner, so a missing second surname costs
    little and a wrong one costs a lot. Names in scripts without spaces are also compared run together."""
    q, c = query.tokens, candidate.tokens
    if not q or not c:
        return NameMatch(0.0, (), query.text, candidate.text)
    cross = crossing(query, candidate)
    # Where the counts differ, two adjacent tokens of the longer name may be one of the shorter written apart
    # (Gholam Reza, غلامرضا; Jose Luis, Joseluis): they are aligned as one unit too.
    q_units, c_units = _units(q, len(q) > len(c)), _units(c, len(c) > len(q))
    sims = sorted(
        ((token_similarity(a, b, cross), i, j) for i, a in q_units for j, b in c_units),
        key=lambda found: (-found[0], len(found[1]) + len(found[2])),
    )
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[str, str, float]] = []
    total = 0.0
    for sim, i, j in sims:
        if sim < PAIR_FLOOR:
            break
        if used_q.intersection(i) or used_c.intersection(j):
            continue
        used_q.update(i)
        used_c.update(j)
        pairs.append(("".join(q[k] for k in i), "".join(c[k] for k in j), round(sim, 3)))
        total += sim
    unmatched = (len(q) - len(used_q)) + (len(c) - len(used_c))
    score = total / (len(pairs) + 0.35 * unmatched) if pairs else 0.0
    if cross and pairs:
        # Between scripts a loose pair comes cheap (two unrelated names often share consonant classes): the
        # weakest pair weighs as much as the average, so a name scores high only if every part agrees.
        score = (score + min(p[2] for p in pairs)) / 2 if len(pairs) > 1 else score
    if len(q) != len(c):  # one side may have a name written without spaces
        joined = _joined_similarity(query, candidate, cross)
        if joined > score:
            score, pairs = joined, [(query.joined, candidate.joined, round(joined, 3))]
    shorter = used_q if len(q) <= len(c) else used_c
    covered = len(shorter) == min(len(q), len(c)) >= 2 and len(pairs) >= 2
    return NameMatch(round(score, 4), tuple(pairs), query.text, candidate.text, covered)
