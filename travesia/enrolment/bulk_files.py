"""Reading an import file: CSV or JSON lines, streamed (memory does not grow with the file), each row with its line
number; a file that cannot be read as a whole is refused before anything is imported (``FileProblem``)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from travesia.enrolment.bulk_checks import Reject, RowIn

CSV_COLUMNS = {
    "id",
    "station",
    "occurred_at",
    "given_names",
    "surnames",
    "sex",
    "birth_date",
    "birth_estimated",
    "nationality",
    "country_of_birth",
    "languages",
    "route_countries",
    "phone",
    "email",
    "notes",
    "corrects",
    "doc_type",
    "doc_number",
    "doc_issuing_state",
    "doc_expiry",
    "mrz",
    "group_id",
    "group_kind",
    "relation",
}
REQUIRED_CSV = {"id", "surnames", "sex", "birth_date"}
LIST_SEPARATOR = ";"
__all__ = ["Reject", "RowIn"]  # defined with the checks, read here by callers of the import


class FileProblem(ValueError):
    """The file as a whole cannot be read (unknown format, bad header); nothing is imported."""


class ByteCounter:
    """Wraps a text file; counts bytes read and the file's SHA-256 as lines stream past (progress, audit)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.count = 0
        self.sha = hashlib.sha256()

    def __iter__(self) -> Iterator[str]:
        for line in self.handle:
            raw = line.encode("utf-8")
            self.count += len(raw)
            self.sha.update(raw)
            yield line


def read_rows(path: Path, counter_sink: list[ByteCounter] | None = None) -> Iterator[RowIn]:
    """Rows with their 1-based line numbers (the header is line 1 of a CSV)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise FileProblem(f"{path.name}: use a .csv or .jsonl file")
    handle = path.open("r", encoding="utf-8", newline="")
    counter = ByteCounter(handle)
    if counter_sink is not None:
        counter_sink.append(counter)
    try:
        yield from _csv_rows(counter) if suffix == ".csv" else _jsonl_rows(counter)
    except UnicodeDecodeError as error:
        raise FileProblem(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    finally:
        handle.close()


def _jsonl_rows(lines: Iterable[str]) -> Iterator[RowIn]:
    """Each line as it is: parsed with the row's checks (``bulk_checks.parsed``), in their process."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield RowIn(number, None, text=line)


def _csv_rows(lines: Iterable[str]) -> Iterator[RowIn]:
    reader = csv.DictReader(lines, strict=True)
    try:
        header = set(reader.fieldnames or [])
    except csv.Error as error:
        raise FileProblem(f"line 1: not a CSV header ({error})") from None
    unknown = header - CSV_COLUMNS
    if unknown:
        raise FileProblem(f"line 1: unknown column(s) {', '.join(sorted(unknown))}")
    missing = REQUIRED_CSV - header
    if missing:
        raise FileProblem(f"line 1: missing column(s) {', '.join(sorted(missing))}")
    try:
        for record in reader:
            number = reader.line_num
            if None in record:
                yield RowIn(number, None, Reject(number, "row", "more values than columns"))
                continue
            yield RowIn(number, csv_to_payload(record))
    except csv.Error as error:
        raise FileProblem(f"line {reader.line_num}: {error}") from None


def csv_to_payload(record: dict[str, str | None]) -> dict[str, Any]:
    value = {k: (v.strip() if isinstance(v, str) else v) for k, v in record.items()}
    payload: dict[str, Any] = {
        k: value[k]
        for k in (
            "id",
            "station",
            "occurred_at",
            "given_names",
            "surnames",
            "sex",
            "birth_date",
            "nationality",
            "country_of_birth",
            "phone",
            "email",
            "notes",
            "corrects",
        )
        if value.get(k)
    }
    if value.get("birth_estimated"):
        payload["birth_estimated"] = value["birth_estimated"].lower() in ("1", "true", "yes", "si", "sí")  # type: ignore[union-attr]
    for key in ("languages", "route_countries"):
        if value.get(key):
            payload[key] = [part for part in value[key].split(LIST_SEPARATOR) if part]  # type: ignore[union-attr]
    if value.get("doc_number") or value.get("mrz"):
        doc = {
            "doc_type": value.get("doc_type") or None,
            "number": value.get("doc_number") or None,
            "issuing_state": value.get("doc_issuing_state") or None,
            "expiry_date": value.get("doc_expiry") or None,
            "mrz": (value.get("mrz") or "").replace("\\n", "\n") or None,
        }
        payload["documents"] = [{k: v for k, v in doc.items() if v is not None}]
    if value.get("group_id"):
        payload["group"] = {
            "id": value["group_id"],
            "kind": value.get("group_kind") or "family",
            "relation": value.get("relation") or "companion",
        }
    return payload
