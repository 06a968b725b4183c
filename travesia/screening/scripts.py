"""Writing systems: which script a name is written in, its romanisation with the corrections each script needs,
and a coarse sound key for comparing a romanised name with a Latin spelling of the same name. Pure functions.

``anyascii`` romanises every script letter by letter (ICU's Any-Latin does the same, slower and no better on
names: both render Hebrew ו as "v" and Arabic و as "w" whether it is a consonant or a long vowel). What each script
gets on top, and why:

- Han (Chinese): one syllable per character, so an unsegmented 习近平 is "xi jin ping" and compares with
  "Xi Jinping" or "Jinping Xi" syllable by syllable, whatever the order;
- Hangul (Korean): a Korean name written as one word (김수용) is split into its surname, spelt as Koreans spell it
  in Latin letters (Kim, Lee, Park: not the Revised Romanisation's gim, i, bak), and its given syllables;
- Hebrew: ו and י between consonants are vowels (o/u, i/e), doubled they are consonants (w, y); ג' is j, ז' is zh,
  צ' is ch; a final ה is the vowel a;
- Arabic script (Arabic, Persian, Urdu, Pashto): و and ي between consonants are the long vowels u and i; the
  article ال is dropped before romanising (see ``names``); short vowels are not written, which the consonant
  skeleton and the sound key absorb;
- Kana (Japanese): ICU's Hepburn reading, where ジャ is ja, ヴァ va and ッ doubles the next consonant (letter by
  letter they would be jiya, vua and tsu);
- every other script: ``anyascii`` alone (Cyrillic, Greek, Devanagari and the other Indic scripts, Georgian,
  Armenian, Ethiopic, Thai).

The sound key (``sound``) is what makes a transliteration comparable with a Latin spelling made by ear: consonants
only, in classes that scripts and languages confuse (p/b/f/v, t/d, k/g/q, s/z, j/ch, l/r), doubled letters once.
It is coarse on purpose (Mahmoud and Mohammed share it), so ``names`` gives it weight only when the two names come
from different scripts, and never the weight of a letter-level match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

LATIN = "Latin"
_SCRIPT_NAMES = {"CJK": "Han", "HANGUL": "Hangul", "HIRAGANA": "Kana", "KATAKANA": "Kana"}


@lru_cache(maxsize=100_000)
def script_of(text: str) -> str:
    """The script most of the letters are written in (Latin for a name without letters)."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            word = unicodedata.name(char, "LATIN").split()[0]
            script = _SCRIPT_NAMES.get(word, word.title())
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else LATIN


def is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


# The Latin spelling Korean surnames are usually given in passports and lists (the 60 commonest cover about 95 %
# of Koreans); Revised Romanisation would give gim, i, bak, which nobody writes.
KOREAN_SURNAMES = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho", "윤": "yoon",
    "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin", "권": "kwon", "황": "hwang",
    "안": "ahn", "송": "song", "류": "ryu", "유": "yoo", "전": "jeon", "홍": "hong", "고": "ko", "문": "moon",
    "양": "yang", "손": "son", "배": "bae", "백": "baek", "허": "heo", "노": "noh", "남": "nam", "심": "shim",
    "하": "ha", "곽": "kwak", "성": "sung", "차": "cha", "주": "joo", "우": "woo", "구": "koo", "나": "na",
    "민": "min", "진": "jin", "지": "ji", "엄": "um", "채": "chae", "원": "won", "천": "chun", "방": "bang",
    "공": "kong", "현": "hyun", "함": "ham", "변": "byun", "염": "yeom", "여": "yeo", "추": "choo", "도": "do",
    "소": "so", "석": "seok", "선": "sun", "설": "seol", "마": "ma", "길": "gil", "연": "yeon", "위": "wi",
    "표": "pyo", "명": "myung", "기": "ki", "반": "ban", "왕": "wang", "금": "keum", "옥": "ok", "육": "yook",
    "인": "in", "맹": "maeng", "제": "je", "모": "mo", "탁": "tak", "국": "kook", "어": "eo", "은": "eun",
}  # fmt: skip


def _korean_word(word: str) -> str:
    """A name written as one word of 2 to 4 syllables with a known surname first, as a Korean name is (foreign
    names in Hangul put a space between their parts), as that surname and its given syllables."""
    if 2 <= len(word) <= 4 and all(_is_hangul(c) for c in word) and word[0] in KOREAN_SURNAMES:
        return " ".join([KOREAN_SURNAMES[word[0]], *(anyascii(c).lower() for c in word[1:])])
    return anyascii(word).lower()


# Hebrew letters one by one (anyascii writes both ב and ו as "v", so the vowel letter cannot be told apart after
# it): ו and י are handled by ``_hebrew_word``; a geresh (') after ג, ז, צ makes j, zh, ch.
_HEBREW = dict(
    zip(
        "אבגדהזחטכךלמםנןסעפףצץקרשת",
        ["a", "b", "g", "d", "h", "z", "kh", "t", "k", "kh", "l", "m", "m", "n", "n", "s", "", "p", "f", "ts", "ts",
         "k", "r", "sh", "t"],
        strict=True,
    )
)  # fmt: skip
_GERESH = {"ג": "j", "ז": "zh", "צ": "ch", "ץ": "ch", "ת": "th"}


def _hebrew_word(word: str) -> str:
    """ו and י between letters are the vowels o/u and i/e; doubled, or first, the consonants v and y."""
    out: list[str] = []
    i = 0
    while i < len(word):
        char, after = word[i], word[i + 1 : i + 2]
        if char in "ׂ׳'" or unicodedata.category(char) == "Mn":  # geresh handled below, points ignored
            i += 1
            continue
        if char in _GERESH and after in ("'", "׳"):
            out.append(_GERESH[char])
        elif char in "וי":
            if after == char:
                out.append("v" if char == "ו" else "y")
                i += 1
            elif not out:
                out.append("v" if char == "ו" else "y")
            else:
                out.append("o" if char == "ו" else "i")
        else:
            out.append(_HEBREW.get(char, anyascii(char).lower()))
        i += 1
    latin = "".join(out)
    return latin[:-1] + "a" if len(latin) > 2 and latin.endswith("h") and word[-1] == "ה" else latin


def _vowel_letters(word: str, letters: dict[str, str]) -> str:
    """Glide letters as vowels after a letter, as consonants when doubled or first."""
    out: list[str] = []
    i = 0
    while i < len(word):
        char = word[i]
        if char in letters and out:
            if word[i + 1 : i + 2] == char:
                out.append(char)
                i += 2
                continue
            out.append(letters[char])
        else:
            out.append(char)
        i += 1
    return "".join(out)


# Letters only Persian, Urdu and Pashto use; where they appear, ض ظ ذ are read z (Reza, not Reda) and ث s.
_PERSIAN_LETTERS = frozenset("پچژگیکۀٹڈڑںےځڅښږګ")
_PERSIAN_READING = str.maketrans({"ض": "z", "ظ": "z", "ذ": "z", "ث": "s"})


def _arabic_word(word: str) -> str:
    return _vowel_letters(word.replace("'", "").replace("`", ""), {"w": "u", "y": "i"})


INDIC = frozenset(
    {"Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala"}
)
_FINAL_SCHWA = re.compile(r"(?<=[bcdfghjklmnpqrstvwxyz])a\b")


@lru_cache(maxsize=1)
def _icu_latin() -> object:
    import icu  # PyICU; loaded on first use (its rules take a moment to compile)

    return icu.Transliterator.createInstance("Any-Latin")


def _indic(text: str) -> str:
    """ICU's ISO 15919 reading (anyascii drops the vowel every consonant carries: "yadv" for यादव), the final
    inherent vowel dropped as Hindi and its neighbours speak it (yādava → yadav), ś and ṣ as sh."""
    latin = _icu_latin().transliterate(text)  # type: ignore[attr-defined]
    latin = _FINAL_SCHWA.sub("", latin.replace("ś", "sh").replace("ṣ", "sh"))
    return anyascii(latin).lower()


@lru_cache(maxsize=1)
def _icu_kana() -> object:
    import icu

    return icu.Transliterator.createInstance("Katakana-Latin; Hiragana-Latin; Latin-ASCII")


_SMALL_VOWEL = re.compile(r"[aeiou]~")  # ICU marks a small kana vowel (ヴァ vu~a, ドゥ do~u): it replaces the vowel


def _kana(text: str) -> str:
    """ICU's Hepburn reading: ジャ is ja and ッ doubles the next consonant (anyascii gives jiya and tsu)."""
    text = text.replace("・", " ").replace("･", " ").replace("゠", " ")  # the dots that part Japanese names' words
    return _SMALL_VOWEL.sub("", _icu_kana().transliterate(text)).replace("~", "").lower()  # type: ignore[attr-defined]


def romanise(text: str, script: str) -> str:
    """Latin letters, lower case, for a name in ``script``."""
    if script == "Han" or any(is_han(c) for c in text):
        text = " ".join(anyascii(c) if is_han(c) else c for c in text)
    if script == "Hangul":
        words = text.split()
        return _korean_word(words[0]) if len(words) == 1 else anyascii(text).lower()
    if script == "Hebrew":
        return " ".join(_hebrew_word(w) for w in unicodedata.normalize("NFC", text).split())
    if script in INDIC:
        return _indic(text)
    if script == "Kana":
        return _kana(text)
    if script == "Arabic":
        # alif is the long a (anyascii writes nothing for it); Persian letters change how some others read
        text = text.replace("ا", "a").replace("أ", "a").replace("إ", "i").replace("آ", "a")
        if _PERSIAN_LETTERS & set(text):
            text = text.translate(_PERSIAN_READING)
    latin = anyascii(text).lower()
    if script == "Arabic":
        return " ".join(_arabic_word(w) for w in latin.split())
    return latin


# -- the sound key -------------------------------------------------------------------------------------------------
_SOUND_STEPS = (
    ("tsch", "j"),
    ("sch", "s"),
    ("dzh", "j"),
    ("sh", "s"),
    ("zh", "j"),
    ("ch", "j"),
    ("kh", "k"),
    ("gh", "g"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
    ("dj", "j"),
    ("ts", "s"),
    ("tz", "s"),
    ("x", "ks"),
)
_SOFT = re.compile(r"c(?=[eiy])")
# j, g, k, q and ch are one class: a Korean ㄱ/ㅈ, an Arabic ج, a Hebrew ג' and a Latin soft or hard g meet there.
_CLASSES = str.maketrans("bfvpdtgkqczslrjmnaeiouywh", "PPPPTTKKKKSSLLKMN________")


ABJADS = frozenset({"Arabic", "Hebrew", "Syriac", "Thaana"})  # scripts that do not write short vowels
_FOLD = str.maketrans("bfvpdtgkqczslrjmnaeiouywh", "ppppttkkkksslljmnaaiiuiu_")
_EPENTHETIC = re.compile(r"(?<=[bcdfghjklmnpqrstvxz])eu(?![aeiouy])")  # Korean ㅡ after a consonant of a loanword


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Letters folded into the classes scripts confuse, vowels kept as three (a/e, i/y, o/u/w): for comparing
    transliterations from scripts that write vowels (Cyrillic, Hangul, kana, Devanagari, Greek)."""
    token = _EPENTHETIC.sub("", token.replace("eo", "o"))
    token = _SOFT.sub("s", token)
    for a, b in _SOUND_STEPS:
        token = token.replace(a, b)
    out: list[str] = []
    for char in token.translate(_FOLD):
        if char != "_" and (not out or out[-1] != char):
            out.append(char)
    return "".join(out)


@lru_cache(maxsize=200_000)
def sound(token: str) -> str:
    """Consonant classes in order, a class repeated once: "walter" and the Hebrew-script "oltr" both give "LTL",
    "kim" and "gim" both "KM"."""
    token = _SOFT.sub("s", token)
    for a, b in _SOUND_STEPS:
        token = token.replace(a, b)
    out: list[str] = []
    for char in token.translate(_CLASSES):
        if char == "_" or not char.isupper():
            out.append("_")
            continue
        if not out or out[-1] != char:
            out.append(char)
    return "".join(c for c in out if c != "_")
