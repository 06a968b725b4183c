"""Batch resolution with Splink on DuckDB over a synthetic Darién population with ground truth, imported through
the bulk importer: sure merges applied and undoable, family members kept apart, nothing lost, replay intact; and
a partner's file linked against the registrations."""

import csv
from collections import Counter
from itertools import combinations

import pytest
from sqlalchemy import select

from tests.conftest import import_population
from travesia.core.errors import InvalidInput
from travesia.core.principal import cli_principal
from travesia.identity import metrics, runs, service
from travesia.models import Encounter, IdentityDecision

ADMIN = cli_principal("test")


@pytest.fixture
def population(db, tmp_path):
    bodies, rows = import_population(db, tmp_path, 1500, seed=3)
    truth = {b["id"]: t["person_key"] for b, t in zip(bodies, rows, strict=True)}
    group = {b["id"]: (t["group_id"], t["station"]) for b, t in zip(bodies, rows, strict=True) if t["group_id"]}
    return truth, group


def persons(session):
    session.expire_all()
    return {str(e): str(p) for e, p in session.execute(select(Encounter.id, Encounter.person_id))}


@pytest.mark.slow
def test_batch_merges_the_sure_proposes_the_rest_and_keeps_families_apart(db, session, population):
    truth, group = population
    before = persons(session)
    assert len(set(before.values())) == len(before)  # every registration its own person after import

    report = runs.run_batch(db)
    assert report.encounters == len(truth) and report.merged > 0
    after = persons(session)
    assert set(after) == set(before)  # nothing lost
    quality = metrics.pairwise(after, truth)
    assert quality.precision > 0.97 and quality.recall > 0.8, quality
    # two people registered together in one group at one station are never made one person
    together = Counter()
    for a, b in combinations(sorted(group), 2):
        if group[a] == group[b] and truth[a] != truth[b]:
            together[after[a] == after[b]] += 1
    assert together[False] > 100 and together[True] == 0
    assert service.replay_check(session).differences == []

    # a supervisor undoes an automatic merge: exactly its registrations go back
    automatic = (
        session.execute(
            select(IdentityDecision).where(IdentityDecision.source == "batch", IdentityDecision.state == "applied")
        )
        .scalars()
        .first()
    )
    undo = service.undo(session, cli_principal("supervisora"), automatic.id, "checking")
    session.commit()
    back = persons(session)
    assert all(back[e] == str(automatic.from_person_id) for e in automatic.encounter_ids)
    assert undo.undoes_id == automatic.id and service.replay_check(session).differences == []

    # run again: what was decided stays decided, nothing proposed twice
    runs.run_batch(db)
    proposals = session.execute(select(IdentityDecision).where(IdentityDecision.state == "proposed")).scalars().all()
    keys = Counter((p.kind, p.from_person_id, p.person_id, tuple(p.encounter_ids)) for p in proposals)
    assert all(n == 1 for n in keys.values())


@pytest.mark.slow
def test_a_partner_file_is_linked_and_a_bad_one_refused_with_line_and_column(db, population, tmp_path):
    with db.transaction(readonly=True) as session:
        one = session.execute(select(Encounter).where(Encounter.birth_precision == "day").limit(1)).scalar_one()
        born = f"{one.birth_year}-{one.birth_month:02d}-{one.birth_day:02d}"
        known = (str(one.id), one.given_names, one.surnames, born, one.sex, one.nationality)
    partner = tmp_path / "partner.csv"
    partner.write_text(
        "id,given_names,surnames,birth_date,sex,nationality\n"
        f"p1,{','.join(known[1:])}\n"
        "p2,Zzyzx,Qwertyuiop,1901-01-01,M,VEN\n",
        encoding="utf-8",
    )
    report = runs.link_file(db, ADMIN, partner, tmp_path / "out")
    with (tmp_path / "out" / "pairs.csv").open(encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    assert report.records == 2 and {p["record_id"] for p in pairs} == {"p1"}
    assert known[0] in {p["encounter_id"] for p in pairs}

    bad = tmp_path / "bad.csv"
    bad.write_text("id,given_names,surnames,birth_date\nx1,Ana,Ruiz,1990-13-45\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        runs.read_partner_file(bad)
    assert error.value.field == "birth_date" and "Line 2" in str(error.value)
