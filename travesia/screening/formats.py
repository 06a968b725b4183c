"""What every list format produces: entries as FollowTheMoney entities (``clean_entity`` checks every value with
followthemoney's own property types; every problem names its line and field), and, from stored properties, the
``Record`` that screening compares. The formats themselves (FollowTheMoney JSON lines, CSV with a mapping, ...)
are modules of ``travesia.screening.listformats``, registered by name and recognised by their content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pycountry
from followthemoney import model

from travesia.screening.scoring import Record, document_key

PERSON_SCHEMAS = {"Person"}
DOCUMENT_SCHEMAS = {"Passport", "Identification"}
NAME_PROPS = ("name", "alias", "previousName")
DOCUMENT_PROPS = ("passportNumber", "idNumber")


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


MAX_DOCUMENT_KEY = 40  # the stored key's width (watchlist_entries.document_key): longer ones are not documents


class ListFileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


Read = Callable[[Iterable[str], str, "dict[str, str] | None"], Iterator["ParsedEntry | Problem"]]


@dataclass(frozen=True)
class ListFormat:
    """One list format: ``sniff`` answers from the file's first non-blank line whether it is written in this format;
    ``read`` yields its entries (or problems) for a list of ``kind`` with an optional column ``mapping``."""

    name: str
    title: str
    sniff: Callable[[str], bool]
    read: Read
    needs_mapping: bool = False


@dataclass(frozen=True)
class ParsedEntry:
    line: int
    external_id: str
    schema: str
    properties: dict[str, list[str]]
    deleted: bool = False
    delta: bool = False  # given as an OpenSanctions delta line (ADD, MOD, DEL): the file changes only what it names

    @property
    def content_hash(self) -> str:
        body = json.dumps([self.schema, self.properties], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def caption(self) -> str:
        for prop in ("name", "number", "alias"):
            if self.properties.get(prop):
                return self.properties[prop][0][:300]
        return self.external_id


def clean_entity(line: int, data: object, kind: str) -> ParsedEntry | Problem:
    """One entity, checked against the FollowTheMoney schema: known properties only, values cleaned by their
    type (dates, countries, genders), and a name (or a document number) required."""
    if not isinstance(data, dict):
        return Problem(line, "entity", "not a JSON object")
    entity_id = data.get("id")
    if not isinstance(entity_id, str) or not entity_id.strip() or len(entity_id) > 200:
        return Problem(line, "id", "missing, or not a string of at most 200 characters")
    allowed = PERSON_SCHEMAS if kind == "persons" else DOCUMENT_SCHEMAS
    schema = model.get(str(data.get("schema", "")))
    if schema is None or schema.name not in allowed:
        return Problem(line, "schema", f"must be one of {', '.join(sorted(allowed))} for a {kind} list")
    raw = data.get("properties")
    if not isinstance(raw, dict):
        return Problem(line, "properties", "missing, or not an object")
    properties: dict[str, list[str]] = {}
    for name, values in raw.items():
        prop = schema.get(name)
        if prop is None:
            return Problem(line, f"properties.{name}", f"not a property of {schema.name}")
        values = values if isinstance(values, list) else [values]
        cleaned = []
        for value in values:
            if not isinstance(value, str | int | float):
                return Problem(line, f"properties.{name}", "values must be text")
            clean = prop.type.clean(str(value), proxy=None)
            if clean is None:
                return Problem(line, f"properties.{name}", f"not a valid {prop.type.name}: {str(value)[:60]!r}")
            cleaned.append(clean)
        if cleaned:
            properties[name] = cleaned
    required = "name" if kind == "persons" else "number"
    if not properties.get(required):
        return Problem(line, f"properties.{required}", "required")
    if kind != "persons" and any(len(document_key(n)) > MAX_DOCUMENT_KEY for n in properties["number"]):
        return Problem(
            line, "properties.number", f"a document number has at most {MAX_DOCUMENT_KEY} letters and digits"
        )
    return ParsedEntry(line, entity_id.strip(), schema.name, properties)


# -- stored properties into what screening compares ---------------------------------------------------------------
def alpha3(code: str) -> str | None:
    code = code.strip()
    if len(code) == 3:
        return code.upper()
    country = pycountry.countries.get(alpha_2=code.upper())
    return country.alpha_3 if country else None


def entry_record(entry_id: str, properties: dict[str, list[str]]) -> Record:
    names = tuple(dict.fromkeys(n for prop in NAME_PROPS for n in properties.get(prop, [])))
    countries = [c for prop in ("nationality", "citizenship") for c in properties.get(prop, [])]
    gender = (properties.get("gender") or [None])[0]
    return Record(
        id=entry_id,
        names=names,
        birth_dates=tuple(properties.get("birthDate", [])),
        nationalities=tuple(filter(None, (alpha3(c) for c in countries))),
        sex={"male": "M", "female": "F"}.get(gender or ""),
        documents=tuple((number, None) for prop in DOCUMENT_PROPS for number in properties.get(prop, [])),
    )


def document_fields(properties: dict[str, list[str]]) -> tuple[str | None, str | None]:
    number = (properties.get("number") or [None])[0]
    country = (properties.get("country") or [None])[0]
    return (document_key(number) if number else None), (alpha3(country) if country else None)


def claimed_record(
    record_id: str,
    given_names: str,
    surnames: str,
    *,
    sex: str | None = None,
    birth_date: str | None = None,
    birth_estimated: bool = False,
    nationality: str | None = None,
    documents: Iterable[tuple[str, str | None]] = (),
    other_names: Iterable[str] = (),
) -> Record:
    """A person as claimed at an encounter (or typed into a search): the name in both orders is not needed, since
    tokens are compared as a set."""
    full = f"{given_names} {surnames}".strip()
    return Record(
        id=record_id,
        names=tuple(dict.fromkeys([full, *other_names])),
        birth_dates=(birth_date,) if birth_date else (),
        birth_estimated=birth_estimated,
        nationalities=tuple(filter(None, [alpha3(nationality)])) if nationality else (),
        sex=sex if sex in ("M", "F") else None,
        documents=tuple(documents),
    )
