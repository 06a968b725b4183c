"""1:N search speed and true-mate recall of the in-process indexes, against an exact scan in the same run.

Face: N synthetic 128-d templates shaped like dlib descriptors (a common offset of norm 1.3, identities spread so
that strangers sit ~0.85 apart and two captures of one person ~0.4, as measured on LFW), plus Q probes that are
second captures of enrolled people. Reports build time, memory per person, p50/p95 search latency, and the share of
probes whose true mate the index ranks first compared with the exact scan's share (the baseline).

Finger: N synthetic minutiae sets (points in a fingertip-shaped area, ridge directions from a smooth field) as
distractors, plus the real FVC2002 DB1–3 prints (../shared/data/biometrics, read in place) with one impression of
each finger enrolled and the others as probes. Reports the share of probes whose mate survives the code scan into
the Bozorth3 shortlist, the end-to-end p50/p95 (scan + Bozorth3 on the shortlist), and per-finger extraction time.

Run:  .venv/bin/python bench/biometric_search.py [--face 100000 1000000] [--finger 100000] [--probes 200]
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
import uuid
from pathlib import Path

import numpy as np

from travesia.biometrics import finger, finger_rescore, fingercode, search
from travesia.biometrics.index import Entry, FaceIndex, FingerIndex
from travesia.synth import fingerprints

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "biometrics"


def synthetic_faces(n: int, rng: np.random.Generator) -> np.ndarray:
    offset = rng.standard_normal(128).astype(np.float32)
    offset *= 1.3 / np.linalg.norm(offset)
    return offset + rng.standard_normal((n, 128)).astype(np.float32) * 0.053


def bench_face(n: int, probes: int, shortlist: int) -> None:
    rng = np.random.default_rng(1)
    people = synthetic_faces(n, rng)
    index = FaceIndex(shortlist=shortlist)
    started = time.perf_counter()
    batch = 50000
    for start in range(0, n, batch):
        chunk = people[start : start + batch]
        index.add([Entry(start + i + 1, "encounter", uuid.UUID(int=start + i + 1), 0, v) for i, v in enumerate(chunk)])
    build = time.perf_counter() - started
    chosen = rng.choice(n, probes, replace=False)
    queries = people[chosen] + rng.standard_normal((probes, 128)).astype(np.float32) * 0.025
    times, found, exact_found = [], 0, 0
    for q, truth in zip(queries, chosen, strict=True):
        t = time.perf_counter()
        hits = index.search(q, k=1)
        times.append(time.perf_counter() - t)
        found += hits[0].template_id == truth + 1
    t = time.perf_counter()
    for q, truth in zip(queries[:50], chosen[:50], strict=True):
        exact_found += index.exact_search(q, k=1)[0].template_id == truth + 1
    exact_ms = (time.perf_counter() - t) / 50 * 1000
    exact_rate = exact_found / 50
    p50, p95 = np.percentile(times, [50, 95]) * 1000
    per_person = index.memory_bytes() / n
    print(
        f"face  N={n:>9,}  build {build:6.1f} s  memory {per_person:5.0f} B/person  "
        f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  | exact scan {exact_ms:7.1f} ms  "
        f"true mate first: index {found / probes:.2%}, exact {exact_rate:.2%} (first 50)"
    )


def synthetic_minutiae(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.integers(25, 60))
    angle = rng.uniform(0, 2 * np.pi, count)
    radius = np.sqrt(rng.uniform(0, 1, count))
    x = 150 + radius * np.cos(angle) * rng.uniform(100, 140)
    y = 180 + radius * np.sin(angle) * rng.uniform(130, 170)
    cx, cy = 150 + rng.normal(0, 20), 170 + rng.normal(0, 20)
    flow = np.degrees(np.arctan2(y - cy, x - cx)) + 90 + rng.normal(0, 15, count)
    return np.stack([x, y, np.mod(flow, 360)], axis=1).astype(np.float32)


def bench_finger(n: int, second_stage: bool = False) -> None:
    rows = [r for r in csv.DictReader((SHARED / "fvc2002" / "manifest.csv").open()) if r["synthetic"] == "0"]
    started = time.perf_counter()
    prints = {
        (r["finger_id"], int(r["impression"])): finger.analyse((SHARED / "fvc2002" / r["path"]).read_bytes())
        for r in rows
    }
    extract_ms = (time.perf_counter() - started) / len(rows) * 1000
    leader, leader_ms = {}, 0.0
    if second_stage:  # the workers' second stage: LEADER templates of every real print, made at enrolment
        started = time.perf_counter()
        leader = {
            (r["finger_id"], int(r["impression"])): finger_rescore.extract(
                (SHARED / "fvc2002" / r["path"]).read_bytes()
            )
            for r in rows
        }
        leader_ms = (time.perf_counter() - started) / len(rows) * 1000
    rng = np.random.default_rng(2)
    index = FingerIndex()
    points = [synthetic_minutiae(rng) for _ in range(n)]
    distractors = [fingercode.code(p) for p in points]
    started = time.perf_counter()
    index.add([Entry(i + 1, "encounter", uuid.UUID(int=i + 1), 1, v) for i, v in enumerate(distractors)])
    enrolled = {fid: prints[(fid, 1)] for fid, imp in prints if imp == 1}
    templates = {}
    for offset, result in enumerate(enrolled.values()):
        tid = n + offset + 1
        templates[tid] = result.template
        index.add([Entry(tid, "encounter", uuid.UUID(int=tid), 1, fingercode.code(finger.as_array(result.minutiae)))])
    build = time.perf_counter() - started
    mate_of = {fid: n + offset + 1 for offset, fid in enumerate(enrolled)}
    second_of = {n + offset + 1: leader.get((fid, 1)) for offset, fid in enumerate(enrolled)}
    synthetic_template = {}
    times, in_shortlist, first = [], 0, 0
    second_times, second_first = [], 0
    probes = [(fid, imp, r) for (fid, imp), r in prints.items() if imp > 1]
    for fid, impression, result in probes:
        t = time.perf_counter()
        hits = index.search(fingercode.code(finger.as_array(result.minutiae)), 1)
        scores = {}
        for hit in hits:
            template = templates.get(hit.template_id)
            if template is None:  # a synthetic distractor: score its minutiae as an ISO record would be
                template = synthetic_template.setdefault(hit.template_id, _iso(points[hit.template_id - 1]))
            scores[hit.template_id] = finger.compare(result.template, template)
        times.append(time.perf_counter() - t)
        in_shortlist += any(h.template_id == mate_of[fid] for h in hits)
        first += max(scores, key=scores.get) == mate_of[fid]
        if second_stage:  # as the worker does: the best RESCORED re-scored where both hold a LEADER template
            probe = leader[(fid, impression)]
            t = time.perf_counter()
            rescored = dict(scores)
            for tid in sorted(scores, key=lambda k: -scores[k])[: search.RESCORED]:
                if second_of.get(tid) is not None:
                    geometric = finger_rescore.compare(probe, second_of[tid])
                    rescored[tid] = finger_rescore.on_bozorth3_scale(scores[tid], geometric)
            second_times.append(times[-1] + time.perf_counter() - t)
            second_first += max(rescored, key=rescored.get) == mate_of[fid]
    p50, p95 = np.percentile(times, [50, 95]) * 1000
    print(
        f"finger N={n:>9,} (+{len(enrolled)} real)  build {build:6.1f} s  memory {index.memory_bytes() / len(index):5.0f} B/finger  "
        f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  | mate in shortlist of {index.shortlist}: {in_shortlist / len(probes):.2%}  "
        f"mate first after Bozorth3: {first / len(probes):.2%}  (extraction {extract_ms:.0f} ms/finger, {len(probes)} probes)"
    )
    if second_stage:
        p50, p95 = np.percentile(second_times, [50, 95]) * 1000
        print(
            f"  + second stage (the best {search.RESCORED} re-scored)  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"| mate first: {second_first / len(probes):.2%}  (LEADER extraction {leader_ms:.0f} ms/finger more)"
        )


def _iso(points: np.ndarray) -> bytes:
    """A minimal ISO/IEC 19794-2:2005 record (the 22-byte header nbis-py writes) for synthetic minutiae."""
    import struct

    body = b"".join(
        struct.pack(">HHBB", (1 << 14) | int(x), int(y), int(a / 360 * 256) % 256, 60) for x, y, a in points
    )
    length = 26 + len(body)
    header = b"FMR\x00" + b" 20\x00" + struct.pack(">IHHHHH", length, 0, 300, 400, 0, 0)
    return header + bytes([0, 0, 0, len(points)]) + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--face", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--finger", type=int, nargs="*", default=[100_000])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--shortlist", type=int, default=1000)
    parser.add_argument("--second-stage", action="store_true", help="also the workers' finger second stage")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(
        f"# python bench/biometric_search.py --face {' '.join(map(str, args.face))} --finger {' '.join(map(str, args.finger))}"
        f"{' --second-stage' if args.second_stage else ''}"
    )
    single = fingerprints.impression(1, 1)
    finger.analyse(single)  # loads NBIS and the NFIQ 2 model outside the timing
    t = time.perf_counter()
    for _ in range(5):
        finger.analyse(single)
    print(f"finger extraction (synthetic 320×320, with NFIQ 2): {(time.perf_counter() - t) / 5 * 1000:.0f} ms")
    for n in args.face:
        bench_face(n, args.probes, args.shortlist)
    for n in args.finger:
        bench_finger(n, args.second_stage)


if __name__ == "__main__":
    main()
