"""Batch identity resolution with Splink (moj-analytical-services/splink): every encounter against every other, on
DuckDB in process (the embedded default) or on Spark (at scale), with the same model.

Why Splink: it is the well-kept Fellegi–Sunter implementation of the field (term-frequency adjustments, EM and
random-sampling estimation, SQL backends from DuckDB to Spark), and its comparisons run in the database, not in
Python. What it lacks we add before it sees the data: names analysed by ``screening.names`` (any script to Latin,
vowel-less Arabic, particles; tokens sorted so that surname order does not matter; the consonant skeleton), the
biometric step's candidates as a comparison of their own, and one rule Splink cannot learn from names: two people
registered in one travelling group at the same time are two people (siblings share surnames and a mother, and
often a year of birth).

The functions here are pure of the database: ``records`` in (dicts), pairs and clusters out. The service turns
clusters that disagree with the person table into proposals or, above a strict threshold, automatic decisions that a
supervisor can undo."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components  # the biometric blocking key; clusters use union-find

from travesia.screening import names as N

# Above this a batch merge is applied at once (and can be undone); between PROPOSE and here it is proposed.
AUTOMATIC = 0.999
PROPOSE = 0.9


@dataclass(frozen=True)
class Encounterish:
    """What batch resolution reads of an encounter (or of a partner's record)."""

    id: str
    given_names: str
    surnames: str
    birth_date: str | None = None  # ISO YYYY-MM-DD when the day is known
    birth_year: int | None = None
    sex: str | None = None
    nationality: str | None = None
    document: str | None = None
    group_id: str | None = None
    station: str | None = None


def _tokens(text: str) -> list[str]:
    return list(N.analyse(text).tokens) if text else []


def features(records: Iterable[Encounterish]) -> pd.DataFrame:
    """One row per record with the columns the model compares. Names are analysed here, once per record."""
    rows = []
    for r in records:
        given, surnames = _tokens(r.given_names), _tokens(r.surnames)
        everything = sorted(given + surnames)
        rows.append(
            {
                "unique_id": r.id,
                "given": given[0] if given else None,
                "surname_1": surnames[0] if surnames else None,
                "surname_2": surnames[1] if len(surnames) > 1 else None,
                "name_sorted": " ".join(everything) or None,
                "name_skeleton": " ".join(sorted(N.skeleton(t) for t in everything)) or None,
                "dob": r.birth_date,
                "birth_year": r.birth_year,
                "birth_decade": r.birth_year // 10 if r.birth_year is not None else None,
                "sex": r.sex if r.sex in ("F", "M") else None,
                "nationality": r.nationality,
                "document": "".join(ch for ch in r.document.upper() if ch.isalnum()) if r.document else None,
                "group_id": r.group_id,
                "station": r.station,
            }
        )
    return pd.DataFrame(rows)


def biometric_columns(
    frame: pd.DataFrame, pairs: Iterable[tuple[str, str, str]], captured: Iterable[str]
) -> pd.DataFrame:
    """Add the biometric step's findings as columns: ``bio_strong`` / ``bio_weak`` list the records whose face or
    fingerprints matched (strong: calibrated biometric evidence of ``evidence.MATCH_BITS`` or more; weak: of
    ``evidence.LIKELY_BITS`` or more), ``bio_block`` is the connected component of strong matches, a blocking key,
    and ``bio_captured`` says whether the record has a template at all: two captured records the 1:N search did
    not pair are evidence against."""
    strong: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    for a, b, level in pairs:
        target = strong if level == "strong" else weak
        target.setdefault(a, []).append(b)
        target.setdefault(b, []).append(a)
    ids = frame["unique_id"].tolist()
    frame = frame.copy()
    have = set(captured)
    frame["bio_captured"] = [True if i in have else None for i in ids]
    frame["bio_strong"] = [strong.get(i, []) for i in ids]
    frame["bio_weak"] = [weak.get(i, []) for i in ids]
    position = {u: n for n, u in enumerate(ids)}
    edges = [(position[a], position[b]) for a, rest in strong.items() for b in rest if a in position and b in position]
    if edges:
        rows, cols = zip(*edges, strict=True)
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
        _, labels = connected_components(graph, directed=False)
        sizes = np.bincount(labels)
        frame["bio_block"] = [f"b{label}" if sizes[label] > 1 else None for label in labels]
    else:
        frame["bio_block"] = None
    return frame


ONE_SIDE_YEAR_ONLY = "(dob_l IS NULL OR dob_r IS NULL)"


def settings(
    with_biometrics: bool,
    extra: Sequence[str] = (),
    link_type: str = "dedupe_only",
    extra_blocking: Sequence[Sequence[str]] = (),
) -> Any:
    """The model: names (sorted tokens, skeletons, surnames, the first given name, which keeps siblings apart),
    birth date (exact, swapped, year), sex, nationality, document, the biometric findings, and ``extra`` columns
    compared exactly with term frequencies (a partner file's address fields)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = [
        cl.CustomComparison(
            output_column_name="name",
            comparison_levels=[
                cll.NullLevel("name_sorted"),
                cll.ExactMatchLevel("name_sorted").configure(tf_adjustment_column="name_sorted"),
                cll.JaroWinklerLevel("name_sorted", 0.94),
                cll.ExactMatchLevel("name_skeleton"),
                # a second surname dropped or added: the first surname and the first given name still agree
                cll.And(cll.ExactMatchLevel("surname_1"), cll.ExactMatchLevel("given")),
                cll.JaroWinklerLevel("name_sorted", 0.85),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="given",
            comparison_levels=[
                cll.NullLevel("given"),
                cll.ExactMatchLevel("given").configure(tf_adjustment_column="given"),
                cll.JaroWinklerLevel("given", 0.88),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="birth",
            comparison_levels=[
                cll.And(cll.NullLevel("dob"), cll.NullLevel("birth_year")),
                cll.ExactMatchLevel("dob"),
                cll.CustomLevel(
                    "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2)"
                    " AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
                    label_for_charts="day and month swapped",
                ),
                cll.DamerauLevenshteinLevel("dob", 1),
                # a year only counts where one side knows only the year: two full dates a year apart disagree
                cll.CustomLevel(f"{ONE_SIDE_YEAR_ONLY} AND birth_year_l = birth_year_r", label_for_charts="same year"),
                cll.CustomLevel(
                    f"{ONE_SIDE_YEAR_ONLY} AND abs(birth_year_l - birth_year_r) <= 1", label_for_charts="year ± 1"
                ),
                cll.ElseLevel(),
            ],
        ),
        cl.ExactMatch("sex"),
        cl.ExactMatch("nationality").configure(term_frequency_adjustments=True),
        cl.ExactMatch("document"),
        *(cl.ExactMatch(column).configure(term_frequency_adjustments=True) for column in extra),
    ]
    # Chosen by measuring, on the synthetic population, the pairs each rule makes and the true pairs it finds: these
    # find 99.3 % of true pairs with 639,000 pairs for 147,520 encounters (first surname with the year and first name
    # with the year made 10.1 million); the biometric block adds what names miss.
    blocking = [
        block_on("surname_1", "given", "birth_year"),
        block_on("name_skeleton", "birth_year"),
        block_on("surname_1", "dob"),
        block_on("given", "dob"),
        block_on("document"),
        block_on("name_sorted", "birth_decade"),
        *(block_on(*columns) for columns in extra_blocking),
    ]
    if with_biometrics:
        comparisons.append(
            cl.CustomComparison(
                output_column_name="biometrics",
                comparison_levels=[
                    cll.NullLevel("bio_captured"),
                    cll.CustomLevel(
                        "list_contains(CAST(bio_strong_l AS VARCHAR[]), unique_id_r)", label_for_charts="strong"
                    ),
                    cll.CustomLevel(
                        "list_contains(CAST(bio_weak_l AS VARCHAR[]), unique_id_r)", label_for_charts="weak"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
        blocking.append(block_on("bio_block"))
    return SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


@dataclass(frozen=True)
class Result:
    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_weight, match_probability
    clusters: dict[str, int]  # record id -> cluster number


def _api(backend: str, spark: Any) -> Any:
    import duckdb
    from splink import DuckDBAPI

    if backend == "spark":
        from splink import SparkAPI  # pyspark only where Spark runs

        return SparkAPI(spark_session=spark, num_partitions_on_repartition=4)
    # DuckDB spills to ./.tmp by default: the system's temporary folder instead, never the working directory
    connection = duckdb.connect()
    spill = Path(tempfile.gettempdir()) / "travesia-duckdb"
    connection.execute("SET temp_directory = ?", [str(spill)])
    return DuckDBAPI(connection=connection)


def _linker(tables: list[pd.DataFrame], model: Any, backend: str, spark: Any) -> Any:
    from splink import Linker

    api = _api(backend, spark)
    inputs = [spark.createDataFrame(t) for t in tables] if backend == "spark" else tables
    tables = [api.register(t, table_name=f"records_{n}") for n, t in enumerate(inputs)]
    return Linker(tables, model, log_level=logging.WARNING)  # our callers report; Splink's chatter is not for logs


EM_PAIRS = 3e6  # a sample of each training pass's pairs: enough for m, bounded in memory at millions of records


def _train(linker: Any, max_pairs: float, seed: int) -> None:
    """u by random sampling, the prior from two deterministic rules, m by expectation-maximisation in two passes,
    each blocking on what the other trains. Not on names: namesakes are many, and EM would learn them as the
    matches (birth date m 0.17); pairs sharing a document number are nearly all true ones. A pass with no pairs
    (a small file, no documents) is skipped: its comparisons keep Splink's defaults."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_sorted", "dob"), block_on("document")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    for rule in (block_on("document"), block_on("dob")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=EM_PAIRS)
        except EMTrainingException:
            continue


def train(
    frame: pd.DataFrame,
    *,
    extra: Sequence[str] = (),
    backend: str = "duckdb",
    spark: Any = None,
    max_pairs: float = 2e6,
    seed: int = 42,
) -> dict[str, Any]:
    """The model trained on one population (deduplication), as Splink's JSON, to link other files with."""
    linker = _linker([frame], settings("bio_block" in frame.columns, extra), backend, spark)
    _train(linker, max_pairs, seed)
    return linker.misc.save_model_to_json()


def resolve(
    frame: pd.DataFrame,
    *,
    other: pd.DataFrame | None = None,
    model: dict[str, Any] | None = None,
    extra: Sequence[str] = (),
    extra_blocking: Sequence[Sequence[str]] = (),
    threshold: float = 0.5,
    cluster_threshold: float = 0.999,
    backend: str = "duckdb",
    spark: Any = None,
    max_pairs: float = 2e6,
    seed: int = 42,
) -> Result:
    """Score the blocked pairs, drop pairs in the same travelling group, and cluster the rest (connected components
    over pairs at or above ``cluster_threshold``). The model is trained on the data unless a trained ``model`` is
    given. With ``other``, link the two frames instead (a partner's list against ours): pairs only across them."""
    link_type = "dedupe_only" if other is None else "link_only"
    if model is not None:
        chosen: Any = {**model, "link_type": link_type}
    else:
        chosen = settings("bio_block" in frame.columns, extra, link_type, extra_blocking)
    tables = [frame] if other is None else [frame, other]
    linker = _linker(tables, chosen, backend, spark)
    if model is None:
        _train(linker, max_pairs, seed)
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    pairs = predictions[["unique_id_l", "unique_id_r", "match_weight", "match_probability"]].copy()
    everyone = frame if other is None else pd.concat([frame, other], ignore_index=True)
    pairs = drop_same_group(pairs, everyone)
    clusters = components(everyone["unique_id"].tolist(), pairs, cluster_threshold, group_keys(everyone))
    return Result(pairs, clusters)


def drop_same_group(pairs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Two encounters registered in one travelling group at one station are two people, whatever their names say
    (the same group at the next station holds the same people again, so the station is part of the rule)."""
    where = group_keys(frame)
    same = [
        a in where and where.get(a) == where.get(b)
        for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)
    ]
    return pairs[~np.array(same, dtype=bool)] if len(pairs) else pairs


def components(
    ids: Sequence[str], pairs: pd.DataFrame, threshold: float, apart: Mapping[str, object] | None = None
) -> dict[str, int]:
    """Clusters from the pairs at or above ``threshold``, strongest pair first (union-find). ``apart`` gives
    records a key that no cluster may hold twice (a travelling group at one station: two people registered together
    are two people), so that twins are not chained together through their encounters at the next station."""
    position = {u: n for n, u in enumerate(ids)}
    parent = list(range(len(ids)))
    keys: dict[int, set[object]] = {}
    if apart:
        for u, key in apart.items():
            if key is not None and u in position:
                keys[position[u]] = {key}

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    # by weight, not probability: probabilities saturate at 1.0 and would leave the order to chance
    order = "match_weight" if "match_weight" in pairs else "match_probability"
    kept = pairs[pairs["match_probability"] >= threshold].sort_values(order, ascending=False, kind="stable")
    for a, b in zip(kept["unique_id_l"], kept["unique_id_r"], strict=True):
        ra, rb = root(position[a]), root(position[b])
        if ra == rb:
            continue
        ka, kb = keys.get(ra, set()), keys.get(rb, set())
        if ka & kb:
            continue  # would put two members of one registered group into one person
        parent[rb] = ra
        if kb:
            keys[ra] = ka | kb
            keys.pop(rb, None)
    return {u: root(n) for u, n in position.items()}


def group_keys(frame: pd.DataFrame) -> dict[str, object]:
    return {
        u: (g, s)
        for u, g, s in zip(frame["unique_id"], frame["group_id"], frame["station"], strict=True)
        if g is not None and s is not None
    }


def disagreements(clusters: Mapping[str, int], persons: Mapping[str, str]) -> tuple[list[set[str]], list[set[str]]]:
    """Where the clusters and the person table differ: groups of persons a cluster joins (merges to consider),
    and persons whose encounters the clusters put apart (splits to consider)."""
    persons_in: dict[int, set[str]] = {}
    clusters_of: dict[str, set[int]] = {}
    for encounter, cluster in clusters.items():
        person = persons[encounter]
        persons_in.setdefault(cluster, set()).add(person)
        clusters_of.setdefault(person, set()).add(cluster)
    merges = [p for p in persons_in.values() if len(p) > 1]
    splits = [{person} for person, c in clusters_of.items() if len(c) > 1]
    return merges, splits
