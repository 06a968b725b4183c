"""Names in a machine-readable zone (ICAO Doc 9303 Part 3): the transliteration of Latin and Cyrillic letters,
other scripts through anyascii, comparing a typed name with the zone's, and writing a passport's zone (TD3) with its
check digits for synthetic data and exercises."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from anyascii import anyascii

from travesia.enrolment.mrz import FILLER, check_digit

# -- ICAO 9303 Part 3 transliteration ----------------------------------------------------------------------------
LATIN = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ö": "OE",
    "Ø": "OE",
    "Ü": "UE",
    "ß": "SS",
    "Þ": "TH",
    "Ĳ": "IJ",
    "Œ": "OE",
    "Ð": "D",
    "Đ": "D",
    "Ł": "L",
    "Ħ": "H",
    "Ŋ": "N",
    "Ŧ": "T",
    "ı": "I",
}
CYRILLIC = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Ґ": "G",
    "Д": "D",
    "Е": "E",
    "Ё": "E",
    "Є": "IE",
    "Ж": "ZH",
    "З": "Z",
    "И": "I",
    "І": "I",
    "Ї": "I",
    "Й": "I",
    "К": "K",
    "Л": "L",
    "М": "M",
    "Н": "N",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "У": "U",
    "Ў": "U",
    "Ф": "F",
    "Х": "KH",
    "Ц": "TS",
    "Ч": "CH",
    "Ш": "SH",
    "Щ": "SHCH",
    "Ъ": "IE",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
}


def transliterate(name: str) -> str:
    """A name as it is written in a zone: ICAO's Latin and Cyrillic tables, other scripts through anyascii
    (Part 3 leaves Arabic and others to the issuing state), then A-Z with '<' for spaces, hyphens and apostrophes
    dropped."""
    out = []
    for char in unicodedata.normalize("NFC", name.upper()):
        if char in LATIN:
            out.append(LATIN[char])
        elif char in CYRILLIC:
            out.append(CYRILLIC[char])
        elif "A" <= char <= "Z":
            out.append(char)
        elif char in " -":
            out.append(FILLER)
        elif char in "'’‘`":
            continue
        else:
            base = unicodedata.normalize("NFKD", char)
            base = "".join(c for c in base if not unicodedata.combining(c))
            out.append(base if base.isascii() and base.isalpha() else anyascii(char).upper())
    text = re.sub(r"[^A-Z<]", "", "".join(out))
    return re.sub(r"<+", FILLER, text).strip(FILLER)


def name_matches(typed: str, in_zone: str) -> bool:
    """Typed name versus the zone's: equal after transliteration, or the zone's is the truncated start."""
    mine = transliterate(typed)
    theirs = in_zone.replace(" ", FILLER)
    return bool(theirs) and (mine == theirs or (len(theirs) >= 4 and mine.startswith(theirs)))


def compose_td3(
    *,
    surnames: str,
    given_names: str,
    number: str,
    issuing_state: str,
    nationality: str,
    birth: date,
    sex: str,
    expiry: date,
) -> str:
    """Write a passport's zone (TD3) with its check digits: for synthetic data and tests."""
    name = (transliterate(surnames) + FILLER * 2 + transliterate(given_names))[:39].ljust(39, FILLER)
    line1 = f"P{FILLER}{issuing_state:<3}".replace(" ", FILLER) + name
    doc = number.upper()[:9].ljust(9, FILLER)
    born, ends = birth.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    personal = FILLER * 14
    line2 = (
        f"{doc}{check_digit(doc)}{nationality:<3}".replace(" ", FILLER)
        + f"{born}{check_digit(born)}{sex if sex in 'FM' else FILLER}{ends}{check_digit(ends)}{personal}{FILLER}"
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return f"{line1}\n{line2}{check_digit(composite)}"
