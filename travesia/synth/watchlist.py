"""A synthetic watchlist in the OpenSanctions format (FollowTheMoney Person entities, one JSON object per line), and
queries planted against it: the same person as a registration officer might record them in Darién — another
script, Arabic without vowels, a Creole spelling, surnames swapped or one missing, a typo, an estimated birth year,
day and month swapped. Deterministic for a seed; every name is made up (common given names, surnames from pools and
from syllables, so that a million entries have a long tail of names like a real list). No real person's record."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from travesia.synth import names as N

ARABIC_M = [
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("يوسف", "Youssef"),
    ("خالد", "Khaled"),
    ("عمر", "Omar"),
    ("حسن", "Hassan"),
    ("علي", "Ali"),
    ("إبراهيم", "Ibrahim"),
    ("مصطفى", "Mustafa"),
    ("طارق", "Tarek"),
]
ARABIC_F = [("فاطمة", "Fatima"), ("مريم", "Maryam"), ("عائشة", "Aisha"), ("ليلى", "Layla"), ("نور", "Nour")]
ARABIC_SURNAMES = [
    ("الرشيد", "Al-Rashid"),
    ("حداد", "Haddad"),
    ("الخطيب", "Al-Khatib"),
    ("منصور", "Mansour"),
    ("سليمان", "Suleiman"),
    ("الحسن", "Al-Hassan"),
    ("ناصر", "Nasser"),
    ("عثمان", "Othman"),
    ("القاسم", "Al-Qasim"),
    ("حمدان", "Hamdan"),
]
RUSSIAN_M = [("Иван", "Ivan"), ("Сергей", "Sergei"), ("Дмитрий", "Dmitry"), ("Алексей", "Alexei"), ("Юрий", "Yuri")]
RUSSIAN_F = [("Ольга", "Olga"), ("Наталья", "Natalya"), ("Елена", "Yelena"), ("Татьяна", "Tatiana")]
RUSSIAN_SURNAMES = [("Петров", "Petrov"), ("Смирнов", "Smirnov"), ("Кузнецов", "Kuznetsov"), ("Соколов", "Sokolov")]
# Common Latin spellings of the same Cyrillic or Arabic name (what a different officer writes).
SPELLINGS = {
    "Sergei": "Sergey",
    "Dmitry": "Dmitri",
    "Alexei": "Aleksey",
    "Natalya": "Natalia",
    "Yelena": "Elena",
    "Tatiana": "Tatyana",
    "Yuri": "Iurii",
    "Mohammed": "Muhammad",
    "Youssef": "Yusuf",
    "Khaled": "Khalid",
    "Tarek": "Tariq",
    "Mustafa": "Moustafa",
    "Aisha": "Aicha",
    "Layla": "Leila",
    "Nour": "Noor",
    "Haddad": "Hadad",
    "Mansour": "Mansur",
    "Suleiman": "Sulayman",
    "Othman": "Uthman",
    "Al-Qasim": "Al Kasim",
}
CREOLE_SPELLINGS = {"Jean": "Jan", "Jean-Pierre": "Jan Pyè", "Pierre": "Pyè", "Jacques": "Jak", "Louis": "Lwi"}
CREOLE_SPELLINGS |= {"Joseph": "Jozèf", "François": "Franswa", "Wilner": "Wilnè"}
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "ca",
    "co",
    "da",
    "de",
    "do",
    "fa",
    "fe",
    "ga",
    "go",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "so",
    "ta",
    "te",
    "to",
    "va",
    "ve",
    "za",
]
NATIONALITIES = {
    "VEN": 0.22,
    "COL": 0.1,
    "ECU": 0.08,
    "HTI": 0.12,
    "CHN": 0.08,
    "IND": 0.06,
    "AFG": 0.06,
    "SYR": 0.1,
    "RUS": 0.06,
    "CMR": 0.06,
    "SOM": 0.06,
}
ALPHA2 = {"VEN": "ve", "COL": "co", "ECU": "ec", "HTI": "ht", "CHN": "cn", "IND": "in", "AFG": "af", "SYR": "sy"}
ALPHA2 |= {"RUS": "ru", "CMR": "cm", "SOM": "so"}


@dataclass
class Listed:
    """One entry as generated: its names in every form we know, for planting variants."""

    id: str
    nationality: str
    sex: str
    given: str
    surname: str
    native: tuple[str, str] | None  # (given, surname) in the person's own script
    born: date
    year_only: bool
    passport: str | None


class WatchlistGenerator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _made_up(self) -> str:
        r = self.rng
        return "".join(r.choice(SYLLABLES) for _ in range(r.randrange(2, 4))).capitalize()

    def _name(self, nationality: str, sex: str) -> tuple[str, str, tuple[str, str] | None]:
        r = self.rng
        pools = {
            "SYR": (ARABIC_F if sex == "F" else ARABIC_M, ARABIC_SURNAMES),
            "RUS": (RUSSIAN_F if sex == "F" else RUSSIAN_M, RUSSIAN_SURNAMES),
            "CHN": ([(a, b) for a, b, s in N.CHINESE if s == sex], [(a, b) for a, b in N.CHINESE_SURNAMES]),
            "IND": ([(a, b) for a, b, s in N.INDIAN if s == sex], N.INDIAN_SURNAMES),
            "AFG": ([(a, b) for a, b, s in N.AFGHAN if s == sex], N.AFGHAN_SURNAMES),
        }
        if nationality in pools:
            given_pool, surname_pool = pools[nationality]
            native_given, given = r.choice(given_pool)
            native_surname, surname = r.choice(surname_pool)
            if nationality in ("CHN", "IND", "AFG") and r.random() < 0.7:  # pools are small: spread the names
                given, native_given = given + self._made_up().lower(), ""
            elif nationality in ("SYR", "RUS") and r.random() < 0.6:
                surname, native_given = self._made_up() + ("ov" if nationality == "RUS" else ""), ""
            if not native_given:
                return given, surname, None
            return given, surname, (native_given, native_surname)
        if nationality == "HTI":
            given = r.choice(N.HAITIAN_F if sex == "F" else N.HAITIAN_M)
            surname = r.choice(N.HAITIAN_SURNAMES) if r.random() < 0.5 else self._made_up()
            return given, surname, None
        if nationality in ("CMR", "SOM"):
            given = r.choice(N.CAMEROON_M + N.SOMALI_M if sex == "M" else N.CAMEROON_F + N.SOMALI_F)
            return given, r.choice(N.CAMEROON_SURNAMES + N.SOMALI_SURNAMES + [self._made_up()]), None
        pool = N.SPANISH_F if sex == "F" else N.SPANISH_M
        given = r.choice(pool) + (" " + r.choice(pool) if r.random() < 0.5 else "")
        first = r.choice(N.SPANISH_SURNAMES) if r.random() < 0.5 else self._made_up()
        second = r.choice(N.SPANISH_SURNAMES) if r.random() < 0.5 else self._made_up()
        return given, f"{first} {second}", None

    def person(self, serial: int) -> Listed:
        r = self.rng
        nationality = r.choices(list(NATIONALITIES), weights=list(NATIONALITIES.values()))[0]
        sex = "M" if r.random() < 0.8 else "F"
        given, surname, native = self._name(nationality, sex)
        born = date(1950, 1, 1) + timedelta(days=r.randrange(365 * 55))
        passport = f"{nationality[0]}{r.randrange(10**7, 10**8)}" if r.random() < 0.4 else None
        return Listed(f"wl-{serial:07d}", nationality, sex, given, surname, native, born, r.random() < 0.15, passport)

    def entity(self, person: Listed) -> dict[str, object]:
        """The entry as a FollowTheMoney Person: Latin name first, the own-script name and a spelling as aliases."""
        r = self.rng
        aliases = []
        if person.native:
            aliases.append(" ".join(person.native) if person.nationality != "CHN" else "".join(person.native[::-1]))
        spelled = _respelled(f"{person.given} {person.surname}", SPELLINGS)
        if spelled and r.random() < 0.5:
            aliases.append(spelled)
        properties: dict[str, list[str]] = {
            "name": [f"{person.given} {person.surname}"],
            "birthDate": [str(person.born.year) if person.year_only else person.born.isoformat()],
            "nationality": [ALPHA2[person.nationality]],
            "gender": ["male" if person.sex == "M" else "female"],
            "topics": [r.choice(["crime", "crime.terror", "crime.traffick", "wanted", "sanction"])],
        }
        if aliases:
            properties["alias"] = aliases
        if person.passport:
            properties["passportNumber"] = [person.passport]
        return {"id": person.id, "schema": "Person", "properties": properties}

    def variant(self, person: Listed) -> tuple[dict[str, object], list[str]]:
        """The same person as an officer records them at a station: one or two realistic changes."""
        r = self.rng
        given, surname, applied = person.given, person.surname, []
        kinds = ["script", "spelling", "creole", "surnames", "typo", "estimated_year", "day_month_swap", "none"]
        for kind in r.sample(kinds, 2):
            if kind == "script" and person.native:
                given, surname = person.native
                applied.append(kind)
            elif kind == "spelling":
                spelled = _respelled(f"{given} {surname}", SPELLINGS)
                if spelled:
                    given, surname = spelled.split(" ", 1)
                    applied.append(kind)
            elif kind == "creole" and person.nationality == "HTI":
                spelled = _respelled(given, CREOLE_SPELLINGS)
                if spelled:
                    given = spelled
                    applied.append(kind)
            elif kind == "surnames" and " " in surname and not person.native:
                a, b = surname.split(" ", 1)
                surname = f"{b} {a}" if r.random() < 0.5 else a
                if " " in given and r.random() < 0.5:  # the second given name left out too
                    given = given.split(" ", 1)[0]
                applied.append(kind)
            elif kind == "typo" and len(given) > 4 and given.isascii():
                i = r.randrange(1, len(given) - 2)
                given = given[:i] + given[i + 1] + given[i] + given[i + 2 :]
                applied.append(kind)
        born, estimated = person.born.isoformat(), False
        if (person.year_only and r.random() < 0.5) or r.random() < 0.05:
            # the list or the officer gives only the year: the right one, or in one case of four the one beside it
            # (a year converted from the Persian or Islamic calendar falls across two of ours)
            year = person.born.year + (r.choice([-1, 1]) if r.random() < 0.25 else 0)
            born = person.born.replace(year=year).isoformat() if person.year_only else str(year)
            if (person.born.month, person.born.day) == (2, 29):
                born = str(year)
            applied.append("year_only")
        elif person.year_only or r.random() < 0.15:
            born, estimated = str(person.born.year + r.choice([-1, 0, 1])), True
            applied.append("estimated_year")
        elif r.random() < 0.1 and person.born.day <= 12 and person.born.day != person.born.month:
            born = date(person.born.year, person.born.day, person.born.month).isoformat()
            applied.append("day_month_swap")
        elif r.random() < 0.05 and (person.born.month, person.born.day) != (2, 29):
            born = person.born.replace(year=person.born.year + r.choice([-1, 1])).isoformat()
            applied.append("year_slip")
        query = {
            "given_names": given,
            "surnames": surname,
            "sex": person.sex,
            "birth_date": born,
            "birth_estimated": estimated,
            "nationality": person.nationality if r.random() < 0.9 else None,
            "documents": [{"number": person.passport, "issuing_state": person.nationality}]
            if person.passport and r.random() < 0.3
            else [],
        }
        return query, applied

    def stranger(self) -> dict[str, object]:
        """Someone not on the list, drawn from the same name pools (so namesakes happen, as they do)."""
        person = self.person(0)
        return {
            "given_names": person.given,
            "surnames": person.surname,
            "sex": person.sex,
            "birth_date": person.born.isoformat(),
            "birth_estimated": False,
            "nationality": person.nationality,
            "documents": [],
        }


def _respelled(text: str, table: dict[str, str]) -> str | None:
    words = text.split()
    out = [table.get(w, w) for w in words]
    return " ".join(out) if out != words else None


def entries(count: int, seed: int) -> Iterator[tuple[Listed, dict[str, object]]]:
    gen = WatchlistGenerator(seed)
    for serial in range(count):
        person = gen.person(serial)
        yield person, gen.entity(person)


def write(out: Path, count: int, seed: int) -> int:
    with out.open("w", encoding="utf-8") as fh:
        for _, entity in entries(count, seed):
            fh.write(json.dumps(entity, ensure_ascii=False) + "\n")
    return count
