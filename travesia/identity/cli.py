"""`travesia identity batch|replay` and `travesia resolve FILE.csv --out DIR` (link a partner's list)."""

from __future__ import annotations

from pathlib import Path

import typer

from travesia.core.console import console, database, handles_errors, operator
from travesia.identity import runs, service

app = typer.Typer(help="Identity resolution: batch runs over every registration, and the decision log.")


@app.command("batch")
@handles_errors
def run_batch(backend: str = typer.Option("duckdb", help="duckdb (in process) or spark (pyspark 4, Java 17).")) -> None:
    """Resolve every registration with the Splink model; apply sure merges, propose the rest."""
    spark = _spark() if backend == "spark" else None
    report = runs.run_batch(database(), backend=backend, spark=spark)
    console.print(
        f"{report.encounters} registrations, {report.pairs} scored pairs: {report.merged} merged automatically, "
        f"{report.proposed_merges} merges and {report.proposed_splits} splits proposed for review"
    )


@app.command("replay")
@handles_errors
def replay() -> None:
    """Rebuild who-is-who from the registrations and the decision log; exit 1 if the person table differs."""
    db = database()
    with db.transaction(readonly=True) as session:
        check = service.replay_check(session)
    console.print(f"{check.encounters} registrations, {check.decisions} decisions replayed")
    if check.differences:
        console.print(f"[red]{len(check.differences)} registrations differ[/red]: {', '.join(check.differences[:10])}")
        raise typer.Exit(1)
    console.print("the person table is what the decisions say")


@handles_errors
def resolve(
    file: Path,
    out: Path = typer.Option(..., "--out", help="Folder for pairs.csv."),
    threshold: float = typer.Option(0.5, help="Lowest match probability written."),
) -> None:
    """Link a partner's list (CSV: id, given_names, surnames[, birth_date, sex, nationality, document]) against
    every registration; writes pairs.csv with scores. Nothing in the database changes."""
    report = runs.link_file(database(), operator(), file, out, threshold)
    console.print(
        f"{report.records} records read, {report.linked_records} linked ({report.pairs} pairs) → {out / 'pairs.csv'}"
    )


def _spark(master: str = "local[2]") -> object:
    """A Spark session with Splink's similarity functions (their jar ships inside splink) and a checkpoint folder
    (Splink checkpoints between steps). On a cluster, pass its master URL instead (docs/identity.md)."""
    import logging
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master(master)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="travesia-spark-warehouse-"))
        .getOrCreate()
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)  # it logs at exit, after the streams are closed
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="travesia-spark-"))
    return spark
