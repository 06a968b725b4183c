"""Each closed set is written once (travesia.models.vocabulary): the database the migrations build holds the same
values in its CHECK constraints, every other closed CHECK of the models matches its migration, and the pages label
every value. Runs on both databases."""

import re

import pytest
from sqlalchemy import CheckConstraint, create_engine, inspect
from sqlalchemy.pool import NullPool

from travesia.models import Base
from travesia.models import vocabulary as v
from travesia.protection import schemas as protection
from travesia.screening import schemas as screening

# (table, constraint name) → the closed set the migrations must hold the column to
CHECKED = {
    ("protection_flags", "kind"): v.FlagKind,
    ("protection_flags", "source"): v.FlagSource,
    ("asylum_claims", "state"): v.ClaimState,
    ("protection_referrals", "kind"): v.ReferralKind,
    ("protection_referrals", "state"): v.ReferralState,
    ("protection_cases", "kind"): v.CaseKind,
    ("protection_cases", "state"): v.CaseState,
    ("alerts", "kind"): v.AlertKind,
    ("alerts", "state"): v.AlertState,
}
LABELS = [
    (protection.FLAG_LABELS, v.FlagKind),
    (protection.FLAG_SOURCE_LABELS, v.FlagSource),
    (protection.CLAIM_STATE_LABELS, v.ClaimState),
    (protection.REFERRAL_KIND_LABELS, v.ReferralKind),
    (protection.REFERRAL_STATE_LABELS, v.ReferralState),
    (protection.CASE_KIND_LABELS, v.CaseKind),
    (protection.CASE_STATE_LABELS, v.CaseState),
    (screening.ALERT_KIND_LABELS, v.AlertKind),
    (screening.ALERT_STATE_LABELS, v.AlertState),
]
CLOSED = re.compile(r"^\(?\s*(\w+) IN \(")


def quoted(sql: str) -> set[str]:
    """The string literals of a CHECK's SQL, as SQLite keeps it or as PostgreSQL prints it back."""
    return {value.replace("''", "'") for value in re.findall(r"'((?:[^']|'')*)'", sql)}


@pytest.fixture
def database_checks(database_url) -> dict[tuple[str, str], str]:
    """The CHECK constraints of the database the migrations built, by table and short name."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        return {
            (table, check["name"].removeprefix(f"ck_{table}_")): check["sqltext"]
            for table in inspector.get_table_names()
            for check in inspector.get_check_constraints(table)
        }
    finally:
        engine.dispose()


def test_every_closed_set_is_the_databases(database_checks):
    for (table, name), closed_set in CHECKED.items():
        assert (table, name) in database_checks, f"no CHECK {name} on {table}"
        assert quoted(database_checks[(table, name)]) == set(v.values(closed_set)), (table, name)


def test_every_closed_check_of_the_models_is_the_migrations(database_checks):
    compared = 0
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint) or not CLOSED.match(str(constraint.sqltext)):
                continue
            name = str(constraint.name).removeprefix(f"ck_{table.name}_")
            assert (table.name, name) in database_checks, f"the migrations lack CHECK {name} on {table.name}"
            assert quoted(database_checks[(table.name, name)]) == quoted(str(constraint.sqltext)), (table.name, name)
            compared += 1
    assert compared >= 30  # the walk found the models' closed sets (not an empty metadata)


@pytest.mark.parametrize(("labels", "closed_set"), LABELS, ids=[str(i) for i in range(len(LABELS))])
def test_the_pages_label_every_value(labels, closed_set):
    assert set(labels) == set(v.values(closed_set))


def test_a_check_is_written_from_its_set():
    assert v.one_of("kind", v.CaseKind) == (
        "kind IN ('child_protection', 'trafficking', 'gender_based_violence', 'medical', 'general')"
    )
    assert v.values(v.FlagKind) == v.values(v.DerivedFlag) + v.values(v.RecordedFlag)
