"""Spanish first, English by a switch: gettext catalogues kept as .po files and compiled in memory at start-up,
so no build step and no binary .mo files in the repository."""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from travesia.core.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(locale: str) -> Callable[..., str]:
    """A translate function that also fills ``%(name)s`` placeholders from keyword arguments."""
    trans = translations(locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0])

    def translate(message: str, **params: object) -> str:
        text = trans.gettext(message)
        return text % params if params else text

    return translate


def negotiate(cookie_value: str | None, accept_language: str | None, default: str) -> str:
    """The user's explicit choice (cookie) wins, then the browser's preference among ours, then the default."""
    if cookie_value in SUPPORTED_LOCALES:
        return cookie_value  # type: ignore[return-value]
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()[:2]
            if tag in SUPPORTED_LOCALES:
                return tag
    return default


@cache
def country_name(code: str | None, locale: str) -> str:
    """A country's name in the reader's language from its ISO 3166 code, alpha-2 or alpha-3 as lists and MRZs write
    it ("ve", "VEN" → "Venezuela"); the code itself where it is none (a zone's UTO, XXA)."""
    if not code:
        return ""
    import pycountry
    from babel import Locale

    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    found = found or (pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None)
    if found is None:
        return code
    return Locale.parse(locale).territories.get(found.alpha_2, found.name)
