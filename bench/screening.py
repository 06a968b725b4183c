"""Screening accuracy and speed against a synthetic watchlist, with nomenklatura's logic-v2 as the reference on the
same pairs in the same run.

    python bench/screening.py --entries 1000000 --planted 1000 --strangers 1000 --reference 300
    python bench/screening.py --lexicon          # rebuilds travesia/screening/lexicon.tsv.gz (development names)
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
import dataclasses
import gzip
import json
import platform
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from travesia.screening import across, lexicon, names, scoring, scripts
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


# -- real names across scripts (../shared/data/names, CC0) -------------------------------------------------------
REAL_NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names" / "person_fullnames.jsonl"


REAL_WORDS = REAL_NAMES.with_name("name_part_variants.jsonl.gz")
WORD_SCRIPTS = {"ar-Arab": " ", "ru-Cyrl": " ", "zh-Hani": "·", "ja-Kana": "・"}  # how each writes two names


# Parts of the real names, by a hash of each line's id (one in five each). The held-out part is never fitted on,
# only reported. The lexicon is built from the whole development part; while the cross-script model is fitted, its
# lexicon comes from one half and its comparisons from the other, so that the model learns what a lexicon hit is
# worth on names the lexicon has not seen together (fitted on the lexicon's own pairs, it would learn that a
# true pair is always found there, and distrust every unseen name).
HELD_OUT, DEVELOPMENT, LEXICON_HALF, MODEL_HALF = {0}, {1, 2, 3, 4}, {1, 2}, {3, 4}


def part_of(line_id: str) -> int:
    return zlib.crc32(line_id.encode()) % 5


def real_persons(parts: set[int]) -> list[tuple[str, str, str]]:
    """(id, Latin name, the same name in another script). Real persons (Hebrew, Korean), and two-word names made
    of real name words with their real renderings in Arabic, Cyrillic, Chinese and Japanese ("same name", not a
    real person), from the given parts only."""
    out = []
    with REAL_NAMES.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if part_of(row["id"]) in parts:
                out.append((row["id"], row["names"][0][0], row["names"][1][0]))
    return out + word_pairs(parts)


def word_pairs(parts: set[int], per_script: int = 20_000) -> list[tuple[str, str, str]]:
    words: dict[str, list[tuple[str, str]]] = {tag: [] for tag in WORD_SCRIPTS}
    with gzip.open(REAL_WORDS, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if part_of(row["id"]) not in parts:
                continue
            latin = row["names"][0][0]
            for name, tag, *_ in row["names"][1:]:
                if tag in words and len(latin) >= 3:
                    words[tag].append((latin.title(), name))
    held_out = parts == HELD_OUT
    rng, out = random.Random(5 + held_out + 10 * min(parts)), []
    for tag, pool in words.items():
        for i in range(min(per_script, len(pool) // 2)):
            (a, ra), (b, rb) = rng.sample(pool, 2)
            out.append((f"{tag}:{held_out}:{i}", f"{a} {b}", f"{ra}{WORD_SCRIPTS[tag]}{rb}"))
    return out


def name_only(record_id: str, name: str) -> scoring.Record:
    return scoring.Record(record_id, (name,))


UNFITTED = scoring.Model({}, {}, 0.0)  # no weights: the comparisons that fit the model must not depend on it


def across_comparisons(count: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features of every (native-script query, retrieved candidate) pair on the development part, and whether the
    pair is the same person. The list holds the real persons' Latin names among 200,000 synthetic entries (the
    list the other fields are calibrated on), so the negatives are what the index really returns from a list of
    that size: real names that sound alike and synthetic ones."""
    rng = random.Random(seed)
    persons = rng.sample(real_persons(MODEL_HALF), count)
    index, _, _ = build(200_000, seed=11)
    index.add_all(name_only(pid, latin) for pid, latin, _ in persons)
    rows, labels = [], []
    for pid, _, native in rng.sample(persons, queries):
        query = name_only("q", native)
        for candidate in index.search(query, K):
            match, q_form, c_form = scoring.best_pair(query, candidate, UNFITTED)  # one name a side: one pair
            if q_form is not None and c_form is not None and names.crossing(q_form, c_form):
                rows.append(across.features(q_form, c_form, match))
                labels.append(candidate.id == pid)
    return np.array(rows, dtype=float), np.array(labels)


def fit_across() -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression

    features, labels = across_comparisons(20_000, 4_000, seed=21)
    fitted = LogisticRegression(C=1.0, max_iter=5000).fit(features, labels)
    weights = {
        "weights": [round(float(w), 4) for w in fitted.coef_[0]],
        "intercept": round(float(fitted.intercept_[0]), 4),
        # the log-odds of the comparisons fitted on: the model's log-odds less these are its likelihood ratio
        "base_bits": round(float(np.log2(labels.sum() / (~labels).sum())), 4),
    }
    # m and u of each band, on the same development comparisons (Laplace-smoothed)
    bands = [across.level(across.probability(f, weights["weights"], weights["intercept"]), f[0]) for f in features]
    names = [name for _, name in across.LEVELS] + [across.WEAK]
    for key, mask in (("m", labels), ("u", ~labels)):
        chosen = [b for b, keep in zip(bands, mask, strict=True) if keep]
        weights[key] = {n: round((chosen.count(n) + 1) / (len(chosen) + len(names)), 6) for n in names}
    print(f"across scripts: fitted on {len(labels):,} development comparisons ({labels.sum():,} same person)")
    return weights


LEXICON_FLOOR = 0.5  # a word aligned by position must look at least this like its partner (not a swapped order)


def build_lexicon(parts: set[int] = DEVELOPMENT, path: Path = lexicon.LEXICON) -> None:
    """The lexicon from the given parts of the real names: the Hebrew and Korean full names aligned word by word
    where both sides have as many words, and every word-level rendering. Pairs our spelling already agrees on
    (0.97 or more) are left out, as are pairs too unlike to be the same word (a misalignment)."""
    pairs: dict[str, set[str]] = {}
    kept = seen = 0

    def add(native: str, latin: str) -> None:
        nonlocal kept, seen
        q, c = names.analyse(native), names.analyse(latin)
        cross = names.crossing(q, c)
        if not cross or len(q.tokens) != len(c.tokens):
            return
        for a, b in zip(q.tokens, c.tokens, strict=True):
            seen += 1
            if (
                len(a) >= 2
                and a.isalpha()
                and len(b) >= 2
                and LEXICON_FLOOR <= names.spelling_similarity(a, b, cross) < 0.97
            ):
                kept += b not in pairs.setdefault(a, set())
                pairs[a].add(b)

    with REAL_NAMES.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if part_of(row["id"]) in parts:
                add(row["names"][1][0], row["names"][0][0])
    with gzip.open(REAL_WORDS, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if part_of(row["id"]) in parts:
                for name, *_ in row["names"][1:]:
                    add(name, row["names"][0][0])
    lexicon.write(pairs, path)
    print(f"lexicon: {kept:,} pairs of {seen:,} aligned words, {len(pairs):,} romanised words; {path}")


def using_lexicon(path: Path) -> None:
    """Compare names with the lexicon at ``path`` from now on (the caches that remember its answers emptied)."""
    lexicon.use(path)
    names.token_similarity.cache_clear()
    scoring.clear_caches()


def calibrate() -> None:
    with tempfile.TemporaryDirectory() as folder:
        half = Path(folder) / "lexicon-half.tsv.gz"
        build_lexicon(LEXICON_HALF, half)
        using_lexicon(half)
        fitted = fit_across()
    using_lexicon(lexicon.LEXICON)
    across_model = {key: fitted[key] for key in ("weights", "intercept", "base_bits")}
    model = scoring.Model({}, {}, 0.0, 1.0, across_model)
    index, listed, _ = build(200_000, seed=11)
    queries = stream(listed, 2000, 2000, seed=12)
    matches, non_matches = [], []
    for query, truth, _ in queries:
        for candidate in index.search(query, K):
            found, _, _ = scoring.levels(query, candidate, model)
            (matches if candidate.id == truth else non_matches).append(found)
    prior = len(matches) / (len(matches) + len(non_matches))
    model = scoring.fit(matches, non_matches, prior, index.names.mean())
    # Across scripts the name's m and u are the real names' (the synthetic variants are the generator's own).
    model.m["name"].update(fitted["m"])  # type: ignore[arg-type]
    model.u["name"].update(fitted["u"])  # type: ignore[arg-type]
    model = dataclasses.replace(model, across=across_model)
    scoring.CALIBRATION.write_text(model.to_json() + "\n")
    for feature in scoring.FIELDS:
        print(feature, {level: round(model.bits(feature, level), 2) for level in scoring.LEVELS[feature]})
    print(f"prior {model.prior_bits} bits; written to {scoring.CALIBRATION}")


def real_name_split(index: CandidateIndex, listed: int, strangers: int, seed: int) -> tuple[list, dict]:
    """Held-out real persons: ``listed`` of them added to the list by their Latin name, then queried by their
    Hebrew or Korean name (name only), with ``strangers`` held-out persons who are not listed."""
    rng = random.Random(seed)
    persons = unique_names(rng.sample(real_persons(HELD_OUT), 2 * (listed + strangers)))[: listed + strangers]
    entities = {}
    for pid, latin, _ in persons[:listed]:
        index.add(name_only(pid, latin))
        entities[pid] = {"id": pid, "schema": "Person", "properties": {"name": [latin]}}
    queries = [
        (name_only(f"q{i}", native), pid if i < listed else None, [scripts.script_of(native)])
        for i, (pid, _, native) in enumerate(persons)
    ]
    return queries, entities


def unique_names(persons: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One person per Latin name: the same English label can be two lines of the set (one person in Hebrew and in
    Korean, or two people), and a query matching its namesake's entry is not a false alert."""
    seen: set[str] = set()
    out = []
    for person in persons:
        if (key := person[1].casefold()) not in seen:
            seen.add(key)
            out.append(person)
    return out


def exhaustive_recall(index: CandidateIndex, queries: list, model: scoring.Model, threshold: float) -> tuple[int, int]:
    """Entries the full scorer puts over the threshold when it scores every live entry, and how many of them the
    index returned among its top K."""
    entries = [r for r in index.records if r is not None]
    above = returned = 0
    for query, *_ in queries:
        found = {c.id for c in index.search(query, K)}
        for entry in entries:
            if scoring.score(query, entry, model, name_count=index.name_count).probability >= threshold:
                above += 1
                returned += entry.id in found
    return above, returned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--strangers", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=300, help="encounters of each kind scored by logic-v2 too")
    parser.add_argument("--threshold", type=float, default=0.7, help="the lists' default alert threshold")
    parser.add_argument("--real", type=int, default=1000, help="held-out real persons listed, and as many not listed")
    parser.add_argument("--exhaustive", type=int, default=100, help="queries scored against every entry of a 20k list")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--lexicon", action="store_true", help="rebuild lexicon.tsv.gz (before --calibrate)")
    args = parser.parse_args()
    if args.lexicon:
        build_lexicon()
        return
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
    r, p, t = best_at_precision(results, 0.98)
    print(f"synthetic, best threshold for precision >= 0.98: recall {r:.4f}, precision {p:.4f} (threshold {t:.3f})")
    if args.real:
        real_report(index, entities, model, args)
    if args.exhaustive:
        exhaustive_report(model, args)


def real_report(index: CandidateIndex, entities: dict, model: scoring.Model, args: argparse.Namespace) -> None:
    queries, real_entities = real_name_split(index, args.real, args.real, seed=9)
    results, times = run(index, queries, model)
    ms = np.array(times) * 1000
    print(f"real names, held-out split: {args.real} listed by their Latin name among the {len(index):,} entries,")
    print(f"  queried by their Hebrew or Korean name (name only), and {args.real} held-out persons not listed")
    print(f"  per query: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms")
    retrieved = sum(1 for _, t, _, s in results if t and any(c == t for c, _ in s)) / args.real
    print(f"  retrieval: the person's entry among the top {K}: {retrieved:.4f}")
    recall, precision, hits, alerts = metrics(results, args.threshold)
    print(f"  travesia at {args.threshold}: recall {recall:.4f}, precision {precision:.4f} ({hits} of {alerts} alerts)")
    print("  recall by script there:", json.dumps(by_variant(results, args.threshold)))
    for floor in (0.98, 0.95, 0.9):
        r, p, t = best_at_precision(results, floor)
        print(f"  travesia, best threshold for precision >= {floor}: recall {r:.4f}, precision {p:.4f} ({t:.3f})")
    print(f"  ceiling: own entry outscores every other candidate: {ranked_first(results):.4f}")
    if args.reference:
        ours = subset(results, args.reference)
        theirs, _ = logic_v2_results(results, {**entities, **real_entities}, args.reference)
        for floor in (0.98, 0.9):
            r, p, t = best_at_precision(ours, floor)
            print(f"  reference subset, travesia: recall {r:.4f} at precision {p:.4f} (>= {floor}, threshold {t:.3f})")
            r, p, t = best_at_precision(theirs, floor)
            print(f"  reference subset, logic-v2 : recall {r:.4f} at precision {p:.4f} (>= {floor}, threshold {t:.3f})")
        print(f"  logic-v2 at 0.7: recall {metrics(theirs, 0.7)[0]:.4f}, precision {metrics(theirs, 0.7)[1]:.4f}")


def exhaustive_report(model: scoring.Model, args: argparse.Namespace) -> None:
    index, listed, _ = build(15_000, seed=31)
    real_queries, _ = real_name_split(index, 5_000, 0, seed=32)
    queries = stream(listed, args.exhaustive, 0, seed=33) + real_queries[: args.exhaustive]
    above, returned = exhaustive_recall(index, queries, model, args.threshold)
    print(
        f"retrieval against the exhaustive scorer ({len(queries)} queries x {len(index):,} entries): the index returned"
        f" {returned} of the {above} entries scored >= {args.threshold} ({returned / max(above, 1):.4f})"
    )


if __name__ == "__main__":
    main()
