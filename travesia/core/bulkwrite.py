"""Rows into a table at the storage's speed: PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3), elsewhere the
driver's ``executemany`` through SQLAlchemy Core. Values go in as SQLAlchemy would bind them (each column type's
bind processor: JSON serialised, UTC datetimes checked), and a column a row leaves out takes its Python default, so
both paths store the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class CopyRefused(DBAPIError):
    """PostgreSQL refused a COPY (a constraint, a foreign key): raised as SQLAlchemy's DBAPIError, so that callers
    that retry row by row treat it as they treat a refused INSERT."""

    def __init__(self, table: str, orig: Exception) -> None:
        super().__init__(f"COPY {table}", None, orig)


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql" or any(row.keys() != rows[0].keys() for row in rows):
        connection.execute(insert(table), list(rows))
        return
    _copy(connection, table, rows)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    import psycopg

    given = rows[0].keys()
    columns = [c for c in table.columns if c.key in given or c.default is not None]
    plan = []
    for column in columns:
        process = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        default = None
        if column.key not in given:  # the Python default SQLAlchemy's INSERT would have sent
            default = column.default.arg(None) if column.default.is_callable else column.default.arg  # type: ignore[union-attr,operator]
        plan.append((column.key, column.key in given, default, process))
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for key, present, default, process in plan:
                    value = row[key] if present else default
                    values.append(process(value) if process is not None else value)  # None too: JSON's is 'null'
                copy.write_row(values)
    except psycopg.Error as error:
        raise CopyRefused(table.name, error) from error
    finally:
        cursor.close()
