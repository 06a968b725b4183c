"""CSV with a column mapping onto FollowTheMoney properties (``property=Column header``); several values in one
cell separated by ';'. The header is on line 1."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from travesia.screening.formats import ListFileError, ListFormat, ParsedEntry, Problem, clean_entity


def sniff(first_line: str) -> bool:
    """A header row: not JSON, not markup, at least one comma-separated column name."""
    text = first_line.strip()
    return bool(text) and not text.startswith(("{", "[", "<")) and any(c.strip() for c in text.split(","))


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``property=Column header`` pairs: which CSV column feeds which FollowTheMoney property."""
    mapping = {}
    for pair in pairs:
        prop, sep, column = pair.partition("=")
        if not sep or not prop.strip() or not column.strip():
            raise ListFileError([Problem(0, "mapping", f"{pair!r}: write property=Column header")])
        mapping[prop.strip()] = column.strip()
    if "id" not in mapping:
        raise ListFileError([Problem(0, "mapping", "map a column to id (each entry needs a stable identifier)")])
    return mapping


def read(lines: Iterable[str], kind: str, mapping: dict[str, str] | None) -> Iterator[ParsedEntry | Problem]:
    if mapping is None:
        yield Problem(0, "mapping", "a CSV list needs a column mapping (--map property=Column)")
        return
    reader = csv.DictReader(lines)
    missing = [column for column in mapping.values() if column not in (reader.fieldnames or [])]
    if missing:
        yield Problem(1, "header", f"no column named {', '.join(repr(m) for m in missing)}")
        return
    default_schema = "Person" if kind == "persons" else "Passport"
    for row in reader:
        props = {
            prop: [v.strip() for v in (row.get(column) or "").split(";") if v.strip()]
            for prop, column in mapping.items()
            if prop not in ("id", "schema")
        }
        entity = {
            "id": (row.get(mapping["id"]) or "").strip(),
            "schema": (row.get(mapping["schema"]) or "").strip() if "schema" in mapping else default_schema,
            "properties": {k: v for k, v in props.items() if v},
        }
        yield clean_entity(reader.line_num, entity, kind)


FORMAT = ListFormat(name="csv", title="CSV with a column mapping", sniff=sniff, read=read, needs_mapping=True)
