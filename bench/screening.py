"""Screening accuracy and speed against a synthetic watchlist, with nomenklatura's logic-v2 as the reference on the
same pairs in the same run.

    python bench/screening.py --entries 1000000 --planted 1000 --strangers 1000 --reference 300
    python bench/screening.py --calibrate        # refits travesia/screening/calibration.json (different seeds)

The list is FollowTheMoney Person entities from ``travesia.synth.watchlist`` (made-up names with a long tail, 15 %
with a year-only birth date, own-script aliases). The stream is ``planted`` encounters that are listed persons as an
officer might record them (another script, vowel-less Arabic, a Creole or other spelling, surnames swapped or one
dropped, a transposed letter, an estimated birth year, day and month swapped) and ``strangers`` who are not listed
but come from the same name pools (namesakes happen). Each encounter goes through what the pipeline runs:
candidate retrieval from the index, then fused scoring; latency is that, per encounter.

Precision counts every alert: a planted encounter's alert on any entry but its own is a false alert, as is any
alert on a stranger. The reference scores, with logic-v2, exactly the pairs our retrieval produced for the first
``reference`` encounters of each kind (logic-v2 has no index of its own), and both matchers are compared there at
their best threshold for precision >= 0.95."""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from travesia.screening import scoring
from travesia.screening.formats import claimed_record, entry_record
from travesia.screening.index import CandidateIndex
from travesia.synth.watchlist import WatchlistGenerator, entries

K = 200


def query_of(i: int, data: dict) -> scoring.Record:
    return claimed_record(
        f"q{i}",
        data["given_names"],
        data["surnames"],
        sex=data["sex"],
        birth_date=data["birth_date"],
        birth_estimated=data["birth_estimated"],
        nationality=data["nationality"],
        documents=[(d["number"], d["issuing_state"]) for d in data["documents"]],
    )


def build(count: int, seed: int) -> tuple[CandidateIndex, list, dict]:
    index, listed, entities = CandidateIndex(), [], {}
    for person, entity in entries(count, seed):
        index.add(entry_record(entity["id"], entity["properties"]))
        listed.append(person)
        entities[entity["id"]] = entity
    return index, listed, entities


def stream(listed: list, planted: int, strangers: int, seed: int) -> list[tuple[scoring.Record, str | None, list[str]]]:
    gen, rng = WatchlistGenerator(seed), random.Random(seed)
    out = []
    for i in range(planted):
        person = rng.choice(listed)
        data, applied = gen.variant(person)
        out.append((query_of(i, data), person.id, applied))
    for i in range(strangers):
        out.append((query_of(planted + i, gen.stranger()), None, []))
    return out


def run(index: CandidateIndex, queries: list, model: scoring.Model) -> tuple[list, list[float]]:
    """Per encounter: retrieval and scoring, timed together. Returns (query, truth, [(candidate id, probability)])."""
    results, times = [], []
    for query, truth, applied in queries:
        start = time.perf_counter()
        candidates = index.search(query, K)
        scored = [(c.id, scoring.score(query, c, model, name_count=index.name_count).probability) for c in candidates]
        times.append(time.perf_counter() - start)
        results.append((query, truth, applied, scored))
    return results, times


def metrics(results: list, threshold: float) -> tuple[float, float, int, int]:
    planted = sum(1 for _, truth, _, _ in results if truth)
    hits = alerts = 0
    for _, truth, _, scored in results:
        for cid, score in scored:
            if score >= threshold:
                alerts += 1
                hits += cid == truth
    return hits / max(planted, 1), hits / max(alerts, 1), hits, alerts


def best_at_precision(results: list, floor: float = 0.95) -> tuple[float, float, float]:
    """The threshold with the highest recall whose precision is at least ``floor``."""
    scores = sorted({s for *_, scored in results for _, s in scored}, reverse=True)
    best = (0.0, 1.0, 1.0)
    for threshold in scores[:: max(1, len(scores) // 400)] + scores[-1:]:
        recall, precision, _, _ = metrics(results, threshold)
        if precision >= floor and recall > best[0]:
            best = (recall, precision, threshold)
    return best


def ranked_first(results: list) -> float:
    """No threshold can alert on the right entry without alerting on one scored at least as high."""
    planted = [scored for _, truth, _, scored in results if truth]
    first = 0
    for _, truth, _, scored in (r for r in results if r[1]):
        own = max((s for c, s in scored if c == truth), default=None)
        first += own is not None and all(s < own for c, s in scored if c != truth)
    return first / max(len(planted), 1)


def logic_v2_results(results: list, entities: dict, reference: int) -> tuple[list, float]:
    from followthemoney import model as ftm
    from nomenklatura.matching import LogicV2
    from nomenklatura.matching.types import ScoringConfig

    config = ScoringConfig.defaults()
    planted = [r for r in results if r[1]][:reference]
    strangers = [r for r in results if not r[1]][:reference]
    out, comparisons, start = [], 0, time.perf_counter()
    for query, truth, applied, scored in planted + strangers:
        props: dict[str, list[str]] = {"name": list(query.names)}
        if query.birth_dates:
            props["birthDate"] = list(query.birth_dates)
        if query.nationalities:
            props["nationality"] = [n.lower() for n in query.nationalities]
        if query.sex:
            props["gender"] = ["male" if query.sex == "M" else "female"]
        if query.documents:
            props["passportNumber"] = [n for n, _ in query.documents]
        q = ftm.get_proxy({"id": query.id, "schema": "Person", "properties": props})
        rescored = []
        for cid, _ in scored:
            candidate = ftm.get_proxy(entities[cid])
            rescored.append((cid, LogicV2.compare(q, candidate, config).score))
            comparisons += 1
        out.append((query, truth, applied, rescored))
    return out, comparisons / (time.perf_counter() - start)


def subset(results: list, reference: int) -> list:
    return [r for r in results if r[1]][:reference] + [r for r in results if not r[1]][:reference]


def by_variant(results: list, threshold: float) -> dict[str, str]:
    out: dict[str, list[int]] = {}
    for _, truth, applied, scored in results:
        if not truth:
            continue
        hit = any(cid == truth and s >= threshold for cid, s in scored)
        for kind in applied or ["none"]:
            out.setdefault(kind, []).append(hit)
    return {k: f"{sum(v) / len(v):.3f} of {len(v)}" for k, v in sorted(out.items())}


def calibrate() -> None:
    index, listed, _ = build(200_000, seed=11)
    queries = stream(listed, 2000, 2000, seed=12)
    matches, non_matches = [], []
    for query, truth, _ in queries:
        for candidate in index.search(query, K):
            found, _, _ = scoring.levels(query, candidate)
            (matches if candidate.id == truth else non_matches).append(found)
    model = scoring.fit(matches, non_matches, len(matches) / (len(matches) + len(non_matches)), index.names.mean())
    scoring.CALIBRATION.write_text(model.to_json() + "\n")
    for feature in scoring.FIELDS:
        print(feature, {level: round(model.bits(feature, level), 2) for level in scoring.LEVELS[feature]})
    print(f"prior {model.prior_bits} bits; written to {scoring.CALIBRATION}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--strangers", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=300, help="encounters of each kind scored by logic-v2 too")
    parser.add_argument("--threshold", type=float, default=0.7, help="the lists' default alert threshold")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
        return
    print(f"# screening bench, {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}")
    print(
        f"# python bench/screening.py --entries {args.entries} --planted {args.planted} --strangers {args.strangers} --reference {args.reference}"
    )
    start = time.perf_counter()
    index, listed, entities = build(args.entries, seed=7)
    print(f"index: {args.entries:,} entries built in {time.perf_counter() - start:.1f} s")
    queries = stream(listed, args.planted, args.strangers, seed=8)
    model = scoring.default_model()
    results, times = run(index, queries, model)
    ms = np.array(times) * 1000
    retrieved = sum(1 for _, t, _, s in results if t and any(c == t for c, _ in s)) / max(args.planted, 1)
    recall, precision, hits, alerts = metrics(results, args.threshold)
    print(
        f"per encounter (retrieval top {K} + scoring): p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms"
    )
    print(f"retrieval: planted entry among the top {K}: {retrieved:.4f}")
    print(
        f"travesia at threshold {args.threshold}: recall {recall:.4f}, precision {precision:.4f} ({hits} true of {alerts} alerts)"
    )
    print("  recall by variant:", json.dumps(by_variant(results, args.threshold)))
    r, p, t = best_at_precision(results)
    print(
        f"travesia at its best threshold for precision >= 0.95: recall {r:.4f}, precision {p:.4f} (threshold {t:.3f})"
    )
    print(f"  recall by variant there: {json.dumps(by_variant(results, t))}")
    print(
        f"ceiling: planted encounters whose own entry outscores every other candidate: {ranked_first(results):.4f} "
        "(the rest have a namesake, say within the year of an estimated birth date, that the fields cannot tell apart)"
    )
    if args.reference:
        ours = subset(results, args.reference)
        theirs, rate = logic_v2_results(results, entities, args.reference)
        r, p, t = best_at_precision(ours)
        print(f"reference subset ({args.reference} planted + {args.reference} strangers, the same pairs):")
        print(
            f"  travesia : recall {r:.4f} at precision {p:.4f} (threshold {t:.3f}); at {args.threshold}: recall {metrics(ours, args.threshold)[0]:.4f}, precision {metrics(ours, args.threshold)[1]:.4f}"
        )
        r, p, t = best_at_precision(theirs)
        print(
            f"  logic-v2 : recall {r:.4f} at precision {p:.4f} (threshold {t:.3f}); at 0.7: recall {metrics(theirs, 0.7)[0]:.4f}, precision {metrics(theirs, 0.7)[1]:.4f}; {rate:.0f} comparisons/s"
        )
        print("  logic-v2 recall by variant at 0.7:", json.dumps(by_variant(theirs, 0.7)))


if __name__ == "__main__":
    main()
