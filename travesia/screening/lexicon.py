"""Name words seen written in two scripts: a romanised token (as ``names`` reads a Hebrew, Korean, Arabic, Cyrillic,
Chinese or Japanese word) and the Latin spelling the same name word had beside it. Pure; loaded on first use.

Letters and sound keys alone cannot tell that 제이슨 (jeiseun) is Jason or that ששון (shshon) is Sassoon: a Latin
spelling keeps letters that the other script never wrote, and adds vowels the Korean syllables force. The pairs
here were seen together in real data — the development part of the CC0 NETransliteration set in
``../shared/data/names`` (Wikidata persons in Hebrew and Korean with their Latin names, aligned word by word where
both have as many words; and its word-level renderings in Arabic, Cyrillic, Chinese, Japanese, Hebrew and Korean) —
so a pair found here is evidence of the same name, weighed by the cross-script model like any other feature.
Pairs that our letters already agree on (similarity 0.97 or more) are left out: they need no lexicon.

``bench/screening.py --lexicon`` writes the file from the development part only (the held-out fifth, by a hash of
each line's id, is never read), so the bench's held-out figures measure what the lexicon does for names it has not
seen together. It holds name words, not persons: no line says who bore them.

The file is a gzip of lines ``romanised<TAB>latin latin ...``."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

LEXICON = Path(__file__).with_name("lexicon.tsv.gz")


def read(path: Path = LEXICON) -> dict[str, str]:
    """Each romanised word with its Latin renderings, space-separated."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return dict(line.rstrip("\n").split("\t", 1) for line in lines)


def write(pairs: dict[str, set[str]], path: Path = LEXICON) -> None:
    # mtime=0: the same pairs give the same bytes, so a rebuild that changes nothing changes no file
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as packed:
        for key in sorted(pairs):
            packed.write(f"{key}\t{' '.join(sorted(pairs[key]))}\n".encode())


_active = [LEXICON]


def use(path: Path) -> None:
    """Read the lexicon from ``path`` from now on (the calibration fits its model with a lexicon of half the
    development names; callers empty the caches that remember earlier answers)."""
    _active[0] = path
    _words.cache_clear()


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    """Loaded once a process, by the first comparison across scripts (about 30 MB, a second)."""
    return read(_active[0])


def renderings(romanised: str) -> tuple[str, ...]:
    """The Latin spellings this romanised word was seen written as."""
    return tuple(_words().get(romanised, "").split())


def known(a: str, b: str) -> bool:
    """Whether two tokens were seen as renderings of one name word, either way round (a list written in Arabic
    queried in Latin letters, or the reverse)."""
    return b in renderings(a) or a in renderings(b)
