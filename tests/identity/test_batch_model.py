"""The batch model itself, pure of the database: families kept apart, the same model on Spark as on DuckDB."""

import pytest

from travesia.identity import batch, metrics
from travesia.synth.population import resolution_records as synthetic


def test_siblings_who_share_surnames_and_a_mother_stay_apart():
    family = [
        batch.Encounterish("mother", "Yohana", "Rojas Pérez", "1985-02-01", 1985, "F", "VEN", None, "g1", "S1"),
        batch.Encounterish("ana", "Ana Lucía", "Mendoza Rojas", "2012-06-01", 2012, "F", "VEN", None, "g1", "S1"),
        batch.Encounterish("ana2", "María José", "Mendoza Rojas", "2012-06-01", 2012, "F", "VEN", None, "g1", "S1"),
        # the same family at the next station: the same three people again
        batch.Encounterish("mother-b", "Yohana", "Rojas", "1985-02-01", 1985, "F", "VEN", None, "g1", "S2"),
        batch.Encounterish("ana-b", "Ana Lucia", "Mendoza Rojas", "2012-06-01", 2012, "F", "VEN", None, "g1", "S2"),
        batch.Encounterish("ana2-b", "Maria Jose", "Mendoza", "2012-06-01", 2012, "F", "VEN", None, "g1", "S2"),
    ]
    records, _ = synthetic(800, seed=2)  # a population to train on
    result = batch.resolve(batch.features(records + family))
    c = result.clusters
    assert c["mother"] == c["mother-b"] and c["ana"] == c["ana-b"] and c["ana2"] == c["ana2-b"]
    # twins: the same surnames, mother and birth date, registered together: two people
    assert c["ana"] != c["ana2"] and c["ana"] != c["mother"]


@pytest.mark.slow
def test_spark_runs_the_same_model_and_agrees_with_duckdb():
    from travesia.identity.cli import _spark

    records, truth = synthetic(1200, seed=4)
    frame = batch.features(records)
    duck = batch.resolve(frame)
    spark = _spark()
    try:
        on_spark = batch.resolve(frame, backend="spark", spark=spark)
    finally:
        spark.stop()
    pairs = lambda r: set(zip(r.pairs["unique_id_l"], r.pairs["unique_id_r"], strict=True))  # noqa: E731
    assert pairs(duck) == pairs(on_spark) and len(pairs(duck)) > 300
    assert metrics.pairwise(duck.clusters, truth).f1 > 0.9
    assert metrics.pairwise(on_spark.clusters, duck.clusters).f1 > 0.99


def test_clustering_never_puts_two_members_of_one_registered_group_together():
    import pandas as pd

    pairs = pd.DataFrame(
        [("t1", "x", 30.0, 1.0), ("t2", "x", 20.0, 1.0), ("t1", "t1b", 25.0, 1.0), ("t2", "t2b", 25.0, 1.0)],
        columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"],
    )
    ids = ["t1", "t2", "x", "t1b", "t2b"]
    free = batch.components(ids, pairs, 0.999)
    assert len(set(free.values())) == 1  # chained through x
    kept = batch.components(ids, pairs, 0.999, apart={"t1": ("g", "S1"), "t2": ("g", "S1")})
    assert kept["t1"] == kept["x"] == kept["t1b"] and kept["t2"] == kept["t2b"] and kept["t1"] != kept["t2"]
