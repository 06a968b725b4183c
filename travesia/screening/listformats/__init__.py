"""The list formats Travesía reads, each one module registered here by name and recognised by its content (the
file's first non-blank line), never by the file's name: two formats may share a suffix. docs/architecture.md:
"How to add a watchlist format"."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator

from travesia.screening.formats import ListFileError, ListFormat, ParsedEntry, Problem
from travesia.screening.listformats import csvmap, ftm

# In the order they are tried: the first whose sniff accepts the file reads it.
FORMATS: dict[str, ListFormat] = {f.name: f for f in (ftm.FORMAT, csvmap.FORMAT)}
MAX_PROBLEMS = 20


def recognise(first_line: str, mapping: dict[str, str] | None) -> ListFormat | None:
    """The format a file is written in, from its first non-blank line. A column mapping says the file is a table
    (its header cannot tell a table from a line of plain text)."""
    for fmt in FORMATS.values():
        if fmt.sniff(first_line) and (mapping is not None or not fmt.needs_mapping):
            return fmt
    return None


def read_file(
    lines: Iterable[str], kind: str, mapping: dict[str, str] | None, format_name: str | None = None
) -> list[ParsedEntry]:
    """The whole file, or ``ListFileError`` with up to ``MAX_PROBLEMS`` problems (and nothing else returned).
    ``format_name`` chooses a registered format; without it the file's content does."""
    problems: list[Problem] = []
    entries: list[ParsedEntry] = []
    try:
        first, stream = _peek(lines)
        fmt = _chosen(first, mapping, format_name)
        seen: dict[str, int] = {}
        for row in fmt.read(stream, kind, mapping):
            if isinstance(row, Problem):
                problems.append(row)
            elif row.external_id in seen:
                problems.append(Problem(row.line, "id", f"{row.external_id!r} is also on line {seen[row.external_id]}"))
            else:
                seen[row.external_id] = row.line
                entries.append(row)
            if len(problems) >= MAX_PROBLEMS:
                break
    except UnicodeDecodeError as error:
        problems.append(Problem(0, "file", f"not UTF-8 text ({error.reason} at byte {error.start})"))
    except csv.Error as error:
        problems.append(Problem(0, "file", f"not readable as CSV ({error})"))
    if problems:
        raise ListFileError(problems)
    return entries


def _peek(lines: Iterable[str]) -> tuple[str, Iterator[str]]:
    """The first non-blank line, and every line again (blank ones included, so line numbers stay true)."""
    iterator = iter(lines)
    seen: list[str] = []
    for line in iterator:
        seen.append(line)
        if line.strip():
            return line, itertools.chain(seen, iterator)
    return "", iter(seen)


def _chosen(first: str, mapping: dict[str, str] | None, format_name: str | None) -> ListFormat:
    if format_name is not None:
        if format_name not in FORMATS:
            known = ", ".join(FORMATS)
            raise ListFileError([Problem(0, "format", f"{format_name!r} is not a list format (known: {known})")])
        return FORMATS[format_name]
    if not first:
        raise ListFileError([Problem(0, "file", "the file is empty")])
    fmt = recognise(first, mapping)
    if fmt is None:
        titles = "; ".join(f.title for f in FORMATS.values())
        hint = " (a CSV list needs a column mapping)" if mapping is None else ""
        raise ListFileError([Problem(1, "file", f"not a list format Travesía reads: {titles}{hint}")])
    return fmt
