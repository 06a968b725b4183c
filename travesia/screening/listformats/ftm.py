"""FollowTheMoney entities as JSON lines (OpenSanctions' format), including its delta files of
``{"op": "ADD|MOD|DEL", "entity": {...}}`` lines."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator

from travesia.screening.formats import ListFormat, ParsedEntry, Problem, clean_entity

OPS = {"ADD", "MOD", "DEL"}


def sniff(first_line: str) -> bool:
    return first_line.lstrip().startswith("{")


def read(lines: Iterable[str], kind: str, mapping: dict[str, str] | None = None) -> Iterator[ParsedEntry | Problem]:
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            yield Problem(number, "json", f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        if isinstance(data, dict) and "op" in data:  # an OpenSanctions delta line
            yield from _delta(number, data, kind)
            continue
        yield clean_entity(number, data, kind)


def _delta(number: int, data: dict, kind: str) -> Iterator[ParsedEntry | Problem]:
    op = data.get("op")
    if op not in OPS:
        yield Problem(number, "op", "must be ADD, MOD or DEL")
        return
    entity = data.get("entity")
    if op == "DEL":
        entity_id = entity.get("id") if isinstance(entity, dict) else None
        if not isinstance(entity_id, str) or not entity_id:
            yield Problem(number, "entity.id", "required to delete an entry")
        else:
            yield ParsedEntry(number, entity_id, "", {}, deleted=True, delta=True)
        return
    parsed = clean_entity(number, entity, kind)
    yield dataclasses.replace(parsed, delta=True) if isinstance(parsed, ParsedEntry) else parsed


FORMAT = ListFormat(name="ftm", title="FollowTheMoney JSON lines", sniff=sniff, read=read)
