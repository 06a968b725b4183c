"""`travesia synth`: a synthetic, Darién-like flow of people in transit, with labelled ground truth.

Yearly totals, nationality mix, seasonality, share of minors and sex ratio follow the public figures collected in
`shared/reference/darien-figures.md` (Panama's SNM as reported in the press; see docs/synthetic-population.md).
Deterministic for a seed. Writes `encounters.jsonl` (the import format) and `ground_truth.csv` beside it.
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from travesia.enrolment.mrz_names import compose_td3
from travesia.identity.batch import Encounterish
from travesia.synth import names as N
from travesia.synth.figures import FIRST, LANGUAGES, LAST, MIX, MONTHS, ROUTES, SECOND, YEARS


@dataclass
class Identity:
    """A true person and the identity they claim."""

    key: str
    given_names: str
    surnames: str
    native: tuple[str, str] | None  # (given, surnames) in their own script, if not Latin
    sex: str
    born: date
    nationality: str
    country_of_birth: str
    passport: str | None
    group_id: str | None = None
    relation: str | None = None
    flags: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # -- identities ------------------------------------------------------------------------------------------------
    def name(self, nationality: str, sex: str) -> tuple[str, str, tuple[str, str] | None]:
        r = self.rng
        if nationality in ("HTI", "BRA", "CHL") and (nationality == "HTI" or r.random() < 0.8):
            given = r.choice(N.HAITIAN_F if sex == "F" else N.HAITIAN_M)
            if r.random() < 0.3:
                given += " " + r.choice(N.HAITIAN_F if sex == "F" else N.HAITIAN_M)
            return given, r.choice(N.HAITIAN_SURNAMES), None
        for code, people, surnames in (
            ("CHN", N.CHINESE, N.CHINESE_SURNAMES),
            ("IND", N.INDIAN, N.INDIAN_SURNAMES),
            ("AFG", N.AFGHAN, N.AFGHAN_SURNAMES),
        ):
            if nationality == code:
                native_given, given, _ = r.choice([p for p in people if p[2] == sex])
                native_surname, surname = r.choice(surnames)
                return given, surname, (native_given, native_surname)
        if nationality == "CMR":
            return r.choice(N.CAMEROON_F if sex == "F" else N.CAMEROON_M), r.choice(N.CAMEROON_SURNAMES), None
        if nationality == "SOM":
            return r.choice(N.SOMALI_F if sex == "F" else N.SOMALI_M), r.choice(N.SOMALI_SURNAMES), None
        pool = N.SPANISH_F if sex == "F" else N.SPANISH_M
        given = r.choice(pool) + (" " + r.choice(pool) if r.random() < 0.6 else "")
        return given, f"{r.choice(N.SPANISH_SURNAMES)} {r.choice(N.SPANISH_SURNAMES)}", None

    def identity(self, nationality: str, sex: str, age: int, on: date, **extra: object) -> Identity:
        r = self.rng
        born = on - timedelta(days=age * 365 + r.randrange(365))
        given, surnames, native = self.name(nationality, sex)
        country_of_birth = nationality
        if nationality in ("CHL", "BRA") and age < 12:
            nationality = "HTI" if r.random() < 0.5 else nationality  # children of Haitians born in Chile/Brazil
        self.serial += 1
        passport = None
        if age >= 16 and r.random() < 0.55:
            passport = f"{nationality[0]}{r.randrange(10**7, 10**8)}"
        return Identity(
            f"P{self.serial:08d}", given, surnames, native, sex, born, nationality, country_of_birth, passport, **extra
        )  # type: ignore[arg-type]

    def age(self, minor: bool) -> int:
        if minor:
            return self.rng.randrange(0, 6) if self.rng.random() < 0.5 else self.rng.randrange(6, 18)
        return min(75, 18 + int(self.rng.expovariate(1 / 12)))

    # -- people into groups ----------------------------------------------------------------------------------------
    def party(self, nationality: str, on: date) -> list[Identity]:
        r = self.rng
        roll = r.random()
        if roll < 0.32:  # a family: one or two adults with children
            group = self.uuid()
            head_sex = "F" if r.random() < 0.45 else "M"
            people = [self.identity(nationality, head_sex, self.age(False), on, group_id=group, relation="head")]
            if r.random() < 0.6:
                people.append(
                    self.identity(
                        nationality,
                        "M" if head_sex == "F" else "F",
                        self.age(False),
                        on,
                        group_id=group,
                        relation="spouse",
                    )
                )
            family_surname = people[0].surnames
            for _ in range(r.choice([1, 1, 1, 2, 2])):
                child = self.identity(nationality, r.choice("FM"), self.age(True), on, group_id=group, relation="child")
                if child.native is None:
                    child.surnames = family_surname  # children carry the family's surnames
                people.append(child)
            return people
        if roll < 0.45:  # a travelling group of adults
            group = self.uuid()
            return [
                self.identity(
                    nationality,
                    "M" if r.random() < 0.7 else "F",
                    self.age(False),
                    on,
                    group_id=group,
                    relation="head" if i == 0 else "companion",
                )
                for i in range(r.randrange(2, 5))
            ]
        if roll < 0.453:  # an unaccompanied child
            child = self.identity(nationality, r.choice("FM"), r.randrange(12, 18), on)
            child.flags.append("unaccompanied_child")
            return [child]
        return [self.identity(nationality, "M" if r.random() < 0.68 else "F", self.age(False), on)]

    # -- noise -----------------------------------------------------------------------------------------------------
    def noisy(self, person: Identity) -> tuple[dict[str, object], list[str]]:
        """The biographics as claimed at a later encounter: typos, surnames swapped or one dropped, spelling
        variants, an estimated birth year, day and month swapped."""
        r, applied = self.rng, []
        given, surnames = person.given_names, person.surnames
        born_text = person.born.isoformat()
        estimated = False
        if r.random() < 0.15:
            parts = given.split()
            variants = N.VARIANTS.get(parts[0])
            if variants:
                given = " ".join([r.choice(variants), *parts[1:]])
                applied.append("variant")
        if r.random() < 0.1 and " " in surnames:
            a, b = surnames.split(" ", 1)
            surnames = f"{b} {a}" if r.random() < 0.5 else a
            applied.append("surnames")
        if r.random() < 0.08 and len(given) > 4:
            i = r.randrange(1, len(given) - 1)
            given = given[:i] + given[i + 1] + given[i] + given[i + 2 :]
            applied.append("typo")
        if r.random() < 0.05:
            born_text, estimated = str(person.born.year + r.choice([-1, 0, 1])), True
            applied.append("estimated_year")
        elif r.random() < 0.04 and person.born.day <= 12 and person.born.day != person.born.month:
            born_text = date(person.born.year, person.born.day, person.born.month).isoformat()
            applied.append("day_month_swap")
        return {
            "given_names": given,
            "surnames": surnames,
            "birth_date": born_text,
            "birth_estimated": estimated,
        }, applied


LIVING_YEARS = (2021, 2022, 2023, 2024)  # a living demo's four years: the flow before the 2025 collapse


def generate(people: int, seed: int, ends: date | None = None) -> Iterator[tuple[dict[str, object], dict[str, object]]]:
    """Yield (encounter in the import format, its ground-truth row), in time order per person. With ``ends``: the
    2021-2024 flow moved so that it ends a week before that day (a living demo: last year's months are busy, the
    seasonality kept, no date in the future); without it, the public figures' own years 2021-2025."""
    g = Generator(seed)
    made = 0
    years = {y: w for y, w in YEARS.items() if ends is None or y in LIVING_YEARS}
    shift = timedelta(0) if ends is None else (ends - timedelta(days=7)) - date(LIVING_YEARS[-1], 12, 31)
    while made < people:
        year = int(g.pick({str(y): w for y, w in years.items()}))
        month = g.rng.choices(range(1, 13), weights=MONTHS)[0]
        day = g.rng.randrange(1, 29)
        start = datetime(year, month, day, g.rng.randrange(6, 18), g.rng.randrange(60), tzinfo=UTC) + shift
        nationality = g.pick(MIX[year])
        party = g.party(nationality, start.date())
        if g.rng.random() < 0.004 and party[0].passport:  # identity usurpation: another claims this identity
            impostor = g.identity(nationality, party[0].sex, g.age(False), start.date())
            impostor.given_names, impostor.surnames, impostor.born = (
                party[0].given_names,
                party[0].surnames,
                party[0].born,
            )
            impostor.passport, impostor.flags = party[0].passport, ["claims_identity_of:" + party[0].key]
            party.append(impostor)
        stops = [g.rng.choice(FIRST), g.rng.choice(SECOND)] + ([LAST] if g.rng.random() < 0.6 else [])
        visits = stops[: 1 + (g.rng.random() < 0.35) + (g.rng.random() < 0.15)]
        second_identity = g.rng.random() < 0.003  # one person under two identities at a later station
        for stop_index, station in enumerate(visits):
            when = start + timedelta(days=stop_index * g.rng.randrange(1, 4), minutes=g.rng.randrange(120))
            for person in party:
                claimed = {
                    "given_names": person.given_names,
                    "surnames": person.surnames,
                    "birth_date": person.born.isoformat(),
                    "birth_estimated": False,
                }
                noise: list[str] = []
                if person.native and g.rng.random() < 0.3:  # written in the person's own script
                    claimed = {**claimed, "given_names": person.native[0], "surnames": person.native[1]}
                    noise = ["native_script"]
                if stop_index > 0:
                    claimed, noise = g.noisy(person)
                if second_identity and stop_index > 0 and person.relation in (None, "head"):
                    alias = g.identity(person.nationality, person.sex, 30, when.date())
                    claimed = {
                        "given_names": alias.given_names,
                        "surnames": alias.surnames,
                        "birth_date": alias.born.isoformat(),
                        "birth_estimated": False,
                    }
                    noise = ["second_identity"]
                yield (
                    _encounter(g, person, station, when, claimed),
                    {
                        "person_key": person.key,
                        "group_id": person.group_id or "",
                        "relation": person.relation or "",
                        "station": station,
                        "visit": stop_index + 1,
                        "noise": ";".join(noise),
                        "flags": ";".join(person.flags),
                        "native_given": person.native[0] if person.native else "",
                        "native_surnames": person.native[1] if person.native else "",
                    },
                )
        made += len(party)


def _encounter(
    g: Generator, person: Identity, station: str, when: datetime, claimed: dict[str, object]
) -> dict[str, object]:
    body: dict[str, object] = {
        "id": g.uuid(),
        "station": station,
        "occurred_at": when.isoformat(),
        **claimed,
        "sex": person.sex,
        "nationality": person.nationality,
        "country_of_birth": person.country_of_birth,
        "languages": LANGUAGES.get(person.nationality, ["es"]),
        "route_countries": ROUTES.get(person.country_of_birth, ["COL"]),
    }
    if person.group_id:
        body["group"] = {
            "id": person.group_id,
            "kind": "family" if person.relation in ("head", "spouse", "child") else "travelling",
            "relation": person.relation,
        }
    if person.passport:
        expiry = date(when.year + 4, person.born.month, min(person.born.day, 28))
        mrz = compose_td3(
            surnames=person.surnames,
            given_names=person.given_names,
            number=person.passport,
            issuing_state=person.nationality,
            nationality=person.nationality,
            birth=person.born,
            sex=person.sex,
            expiry=expiry,
        )
        body["documents"] = [{"doc_type": "passport", "mrz": mrz}]
    return body


def write(out: Path, people: int, seed: int, ends: date | None = None) -> tuple[int, int]:
    out.mkdir(parents=True, exist_ok=True)
    encounters = 0
    persons: set[str] = set()
    with (
        (out / "encounters.jsonl").open("w", encoding="utf-8") as data,
        (out / "ground_truth.csv").open("w", newline="", encoding="utf-8") as truth,
    ):
        writer = None
        for encounter, label in generate(people, seed, ends):
            data.write(json.dumps(encounter, ensure_ascii=False) + "\n")
            row = {"encounter_id": encounter["id"], **label}
            if writer is None:
                writer = csv.DictWriter(truth, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            encounters += 1
            persons.add(str(label["person_key"]))
    return len(persons), encounters


def resolution_records(people: int, seed: int) -> tuple[list[Encounterish], dict[str, str]]:
    """The population as batch identity resolution reads it, with the true person of each encounter (for
    ``bench/resolution.py`` and the tests)."""
    records, truth = [], {}
    for body, row in generate(people, seed):
        born = str(body["birth_date"])
        group = body.get("group") or {}
        documents = body.get("documents") or []
        records.append(
            Encounterish(
                id=str(body["id"]),
                given_names=str(body["given_names"]),
                surnames=str(body["surnames"]),
                birth_date=born if len(born) == 10 and not body.get("birth_estimated") else None,
                birth_year=int(born[:4]),
                sex=str(body["sex"]),
                nationality=str(body["nationality"]),
                # the number is the TD3 zone's first nine characters of line 2
                document=documents[0]["mrz"].split("\n")[1][:9].replace("<", "") if documents else None,
                group_id=group.get("id"),
                station=str(body["station"]),
            )
        )
        truth[str(body["id"])] = str(row["person_key"])
    return records, truth
