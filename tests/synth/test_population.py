"""The synthetic population: deterministic, shaped like the public figures, labelled, and importable whole."""

import csv
import hashlib
import json
from collections import Counter
from datetime import date

import pytest

from travesia.enrolment.mrz import parse
from travesia.enrolment.schemas import EncounterIn
from travesia.synth.population import write


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    persons, encounters = write(out, 20_000, seed=11)
    rows = [json.loads(line) for line in (out / "encounters.jsonl").open(encoding="utf-8")]
    with (out / "ground_truth.csv").open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    return out, persons, encounters, rows, truth


def test_deterministic_for_a_seed(tmp_path):
    def digest(folder):
        write(folder, 500, seed=5)
        return hashlib.sha256((folder / "encounters.jsonl").read_bytes()).hexdigest()

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    write(tmp_path / "c", 500, seed=6)
    assert digest(tmp_path / "a") != hashlib.sha256((tmp_path / "c" / "encounters.jsonl").read_bytes()).hexdigest()


def test_every_row_is_a_valid_encounter_with_a_valid_zone(population):
    _, _, _, rows, _ = population
    for row in rows[:3000]:
        EncounterIn.model_validate(row)
        for doc in row.get("documents", []):
            assert parse(doc["mrz"]).valid


def test_shape_follows_the_public_figures(population):
    _, persons, encounters, rows, truth = population
    assert persons >= 20_000 and encounters > persons  # repeat encounters at later stations
    first_visits = [(r, t) for r, t in zip(rows, truth, strict=True) if t["visit"] == "1"]
    nationalities = Counter(r["nationality"] for r, _ in first_visits)
    assert nationalities.most_common(1)[0][0] == "VEN"
    assert 0.45 < nationalities["VEN"] / len(first_visits) < 0.75
    minors = sum(1 for r, _ in first_visits if _age(r) < 18) / len(first_visits)
    assert 0.15 < minors < 0.28, minors  # the figures: 16–22 %
    years = Counter(r["occurred_at"][:4] for r, _ in first_visits)
    assert years["2023"] > years["2024"] > years["2022"] > years["2021"] > years["2025"]


def _age(row):
    born = row["birth_date"]
    return (
        2024 - int(born[:4])
        if len(born) < 10
        else (date.fromisoformat(row["occurred_at"][:10]) - date.fromisoformat(born)).days // 365
    )


def test_ground_truth_labels_noise_groups_and_usurpation(population):
    _, _, _, rows, truth = population
    assert len(rows) == len(truth) and all(r["id"] == t["encounter_id"] for r, t in zip(rows, truth, strict=True))
    noise = Counter(n for t in truth for n in t["noise"].split(";") if n)
    for kind in ("variant", "surnames", "typo", "estimated_year", "native_script"):
        assert noise[kind] > 0, kind
    flags = Counter(f.split(":")[0] for t in truth for f in t["flags"].split(";") if f)
    assert flags["claims_identity_of"] > 0 and flags["unaccompanied_child"] > 0
    assert noise["second_identity"] > 0
    groups = Counter(t["group_id"] for t in truth if t["group_id"])
    assert len(groups) > 1000
    scripts = {r["surnames"] for r in rows if any(ord(c) > 0x2000 for c in r["surnames"])}
    assert scripts, "some names are written in their own script"


def test_a_living_population_ends_before_the_day_it_is_made_for(tmp_path):
    from datetime import datetime, timedelta

    ends = date(2026, 12, 7)
    write(tmp_path / "live", 3000, seed=12, ends=ends)
    rows = [json.loads(line) for line in (tmp_path / "live" / "encounters.jsonl").open(encoding="utf-8")]
    days = [datetime.fromisoformat(r["occurred_at"]).date() for r in rows]
    assert max(days) <= ends and max(days) >= ends - timedelta(days=21)  # the flow reaches the last weeks
    assert min(days) >= ends - timedelta(days=4 * 366 + 7)  # four years back, never more
    last_year = [d for d in days if d > ends - timedelta(days=365)]
    assert len(last_year) > 0.2 * len(days)  # the last twelve months are busy, not a trickle
    for row in rows[:500]:
        EncounterIn.model_validate(row)  # valid as of their own dates (documents, ages)
