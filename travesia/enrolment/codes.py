"""Code lists an encounter is validated against: ISO 3166-1 alpha-3 countries (pycountry) plus the ICAO codes for
the stateless, refugees and unspecified nationality, and ISO 639 languages."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from travesia.core.errors import N_, RuleProblem

# ICAO 9303 Part 3 §5: codes that are not countries. "D" is how German documents write DEU in the zone.
ICAO_EXTRA = {
    "XXA": "Stateless person",
    "XXB": "Refugee (1951 Convention)",
    "XXC": "Refugee (other)",
    "XXX": "Unspecified nationality",
    "UTO": "Utopia (ICAO specimen)",
}
ZONE_ALIASES = {"D": "DEU"}


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries) | frozenset(ICAO_EXTRA)


@lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    codes = set()
    for language in pycountry.languages:
        codes.add(language.alpha_3)
        if hasattr(language, "alpha_2"):
            codes.add(language.alpha_2)
    codes.add("ht")  # Haitian Creole is in ISO 639-1 (ht / hat); kept explicit for clarity
    return frozenset(codes)


def country_code(value: str) -> str:
    code = value.strip().upper()
    code = ZONE_ALIASES.get(code, code)
    if code not in countries():
        raise RuleProblem(N_("%(value)s is not an ISO 3166-1 alpha-3 country code."), value=repr(value))
    return code
