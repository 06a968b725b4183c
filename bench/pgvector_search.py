"""Face 1:N in PostgreSQL with pgvector, measured beside the in-process index on the same synthetic gallery.

The gallery and probes are those of bench/biometric_search.py (128-d vectors shaped like dlib descriptors, probes
that are second captures of enrolled people). For each way of searching we report build time, size on disk per
person, p50/p95 latency of one probe, and the share of probes whose true mate is ranked first — beside the exact
scan's share, the baseline:

- exact:       ``ORDER BY embedding <-> q`` over ``vector(128)`` (a sequential scan, every row compared)
- halfvec:     the same over ``halfvec(128)`` (half the bytes)
- hnsw ef=E:   pgvector's HNSW graph (m=16, ef_construction=64), approximate, at two ``hnsw.ef_search`` values
- bits+rerank: what the in-process index does, in SQL: a full Hamming scan of ``bit(128)`` sign codes of the
               centred descriptors (``<~>``), the best 1000 re-scored exactly on ``halfvec``
- in-process:  travesia.biometrics.index.FaceIndex (FAISS binary scan + float16 re-score)

Needs a PostgreSQL with pgvector: ``scripts/with-test-postgres.sh`` starts one and sets TRAVESIA_TEST_DATABASE_URL.

Run:  scripts/with-test-postgres.sh .venv/bin/python bench/pgvector_search.py [--n 100000 1000000] [--probes 100]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
import uuid

import numpy as np
import psycopg
from biometric_search import synthetic_faces

from travesia.biometrics.index import Entry, FaceIndex

SHORTLIST = 1000


def _vector(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.5f}" for x in v) + "]"


def _bits(v: np.ndarray) -> str:
    return "".join("1" if x > 0 else "0" for x in v)


def load(conn: psycopg.Connection, people: np.ndarray, center: np.ndarray) -> float:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_face")
        cur.execute(
            "CREATE UNLOGGED TABLE bench_face (id bigint PRIMARY KEY, embedding vector(128), half halfvec(128),"
            " code bit(128))"
        )
        with cur.copy("COPY bench_face (id, embedding, half, code) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i, v in enumerate(people, start=1):
                text = _vector(v)
                buffer.write(f"{i}\t{text}\t{text}\t{_bits(v - center)}\n")
                if i % 20000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cur.execute("VACUUM ANALYZE bench_face")
    return time.perf_counter() - started


def measure(conn: psycopg.Connection, sql: str, queries: list[dict[str, str]], truth: np.ndarray) -> tuple:
    times, found = [], 0
    with conn.cursor() as cur:
        for params, mate in zip(queries, truth, strict=True):
            t = time.perf_counter()
            cur.execute(sql, params)
            best = cur.fetchone()[0]
            times.append(time.perf_counter() - t)
            found += best == mate + 1
    p50, p95 = np.percentile(times, [50, 95]) * 1000
    return p50, p95, found / len(truth)


def report(name: str, build: float, per_person: float, p50: float, p95: float, recall: float) -> None:
    print(
        f"  {name:<14} build {build:7.1f} s  {per_person:5.0f} B/person  p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  "
        f"true mate first {recall:.2%}"
    )


def size_per_person(conn: psycopg.Connection, relation: str, n: int) -> float:
    return conn.execute("SELECT pg_total_relation_size(%s)", (relation,)).fetchone()[0] / n


def bench(url: str, n: int, probes: int) -> None:
    rng = np.random.default_rng(1)
    people = synthetic_faces(n, rng)
    chosen = rng.choice(n, probes, replace=False)
    probe_vectors = people[chosen] + rng.standard_normal((probes, 128)).astype(np.float32) * 0.025
    center = people[: min(n, 50_000)].mean(axis=0)
    queries = [{"q": _vector(v), "bits": _bits(v - center)} for v in probe_vectors]
    print(f"N={n:,}  probes={probes}")

    index = FaceIndex(shortlist=SHORTLIST)
    t = time.perf_counter()
    for start in range(0, n, 50_000):
        chunk = people[start : start + 50_000]
        index.add([Entry(start + i + 1, "encounter", uuid.UUID(int=start + i + 1), 0, v) for i, v in enumerate(chunk)])
    build = time.perf_counter() - t
    times, found = [], 0
    for v, mate in zip(probe_vectors, chosen, strict=True):
        t = time.perf_counter()
        found += index.search(v, k=1)[0].template_id == mate + 1
        times.append(time.perf_counter() - t)
    p50, p95 = np.percentile(times, [50, 95]) * 1000
    report("in-process", build, index.memory_bytes() / n, p50, p95, found / probes)
    del index

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("SET max_parallel_workers_per_gather = 2")
        conn.execute("SET work_mem = '256MB'")
        load_time = load(conn, people, center)
        table = size_per_person(conn, "bench_face", n)
        print(f"  table load (COPY of vector, halfvec and bit columns): {load_time:.1f} s, {table:.0f} B/person")
        exact = "SELECT id FROM bench_face ORDER BY embedding <-> %(q)s::vector LIMIT 1"
        report("exact", 0, table, *measure(conn, exact, queries, chosen))
        half = "SELECT id FROM bench_face ORDER BY half <-> %(q)s::halfvec LIMIT 1"
        report("halfvec exact", 0, table, *measure(conn, half, queries, chosen))
        rerank = (
            "SELECT id FROM (SELECT id, half FROM bench_face ORDER BY code <~> %(bits)s::bit(128) LIMIT "
            f"{SHORTLIST}) s ORDER BY half <-> %(q)s::halfvec LIMIT 1"
        )
        report("bits+rerank", 0, table, *measure(conn, rerank, queries, chosen))

        conn.execute("SET maintenance_work_mem = '4GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        t = time.perf_counter()
        conn.execute("CREATE INDEX bench_face_hnsw ON bench_face USING hnsw (half halfvec_l2_ops)")
        hnsw_build = time.perf_counter() - t
        graph = size_per_person(conn, "bench_face_hnsw", n)
        approximate = "SELECT id FROM bench_face ORDER BY half <-> %(q)s::halfvec LIMIT 1"
        for ef in (40, 200):
            conn.execute(f"SET hnsw.ef_search = {ef}")
            report(f"hnsw ef={ef}", hnsw_build, graph, *measure(conn, approximate, queries, chosen))
        conn.execute("DROP TABLE bench_face")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="*", default=[100_000])
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--url", default=os.environ.get("TRAVESIA_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or run under scripts/with-test-postgres.sh")
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"# scripts/with-test-postgres.sh python bench/pgvector_search.py --n {' '.join(map(str, args.n))}")
    for n in args.n:
        bench(args.url, n, args.probes)


if __name__ == "__main__":
    main()
