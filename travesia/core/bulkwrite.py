"""Rows into a table at the storage's speed: PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3), elsewhere the
driver's own ``executemany`` with values already in storage form. Values are turned into what the driver stores as
SQLAlchemy would bind them (each column type's bind processor: JSON serialised, UUIDs as the dialect keeps them, UTC
datetimes checked), and a column a row leaves out takes its Python default, so every path stores the same thing.

The conversion (``StorageForm``) is separate from the write (``write_stored``) so that it can run in other
processes: the bulk import turns rows into storage form in a process pool and one writer only writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError

PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class WriteRefused(DBAPIError):
    """The database refused a bulk write (a constraint, a foreign key): raised as SQLAlchemy's DBAPIError, so that
    callers that retry row by row treat it as they treat a refused INSERT."""

    def __init__(self, table: str, orig: Exception) -> None:
        super().__init__(f"bulk write into {table}", None, orig)


@lru_cache(maxsize=8)
def dialect_named(name: str) -> Dialect:
    """A dialect from its URL name ("sqlite", "postgresql+psycopg"), without a connection: what a process that
    converts rows but never connects needs."""
    return make_url(f"{name}://").get_dialect()()


@dataclass(frozen=True)
class StorageForm:
    """A table's columns, in the order they are written, and how each value becomes what the driver stores."""

    table: Table
    columns: tuple[str, ...]
    plan: tuple[tuple[str, bool, Callable[[], Any] | None, Callable[[Any], Any] | None], ...]
    # key, given, the Python default SQLAlchemy's INSERT would have sent (called per row), bind processor

    @classmethod
    def of(cls, table: Table, dialect: Dialect, given: Iterable[str]) -> StorageForm:
        return _form(table, frozenset(given), dialect)

    def index(self, key: str) -> int:
        return self.columns.index(key)

    def value(self, key: str, value: Any) -> Any:
        """One column's value in storage form (to patch a converted row)."""
        process = self.plan[self.index(key)][3]
        return process(value) if process is not None else value

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for key, given, default, process in self.plan:
            value = values[key] if given else default()  # type: ignore[misc]
            out.append(process(value) if process is not None else value)  # None too: JSON's is 'null'
        return out


@lru_cache(maxsize=64)
def _form(table: Table, given: frozenset[str], dialect: Dialect) -> StorageForm:
    columns = [c for c in table.columns if c.key in given or c.default is not None]
    plan = []
    for column in columns:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        plan.append((column.key, column.key in given, _default(column), process))
    return StorageForm(table, tuple(c.key for c in columns), tuple(plan))


def _default(column: Any) -> Callable[[], Any] | None:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy passes the execution context; ours take none
    return lambda: default.arg


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Rows given as mappings of column keys (all with the same keys): converted here, then written."""
    if not rows:
        return
    if any(row.keys() != rows[0].keys() for row in rows):
        connection.execute(insert(table), list(rows))
        return
    form = StorageForm.of(table, connection.dialect, rows[0].keys())
    write_stored(connection, form, [form.row(row) for row in rows])


def write_stored(connection: Connection, form: StorageForm, rows: Sequence[Sequence[Any]]) -> None:
    """Rows already in storage form (``StorageForm.row``), in one statement on the driver's own cursor: COPY on
    PostgreSQL, executemany elsewhere (no SQLAlchemy per-value processing: the values are final)."""
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    table = quote(form.table.name)
    names = ", ".join(quote(form.table.columns[key].name) for key in form.columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(PLACEHOLDERS[connection.dialect.paramstyle] for _ in form.columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - schema names
    except connection.dialect.loaded_dbapi.Error as error:
        raise WriteRefused(form.table.name, error) from error
    finally:
        cursor.close()
