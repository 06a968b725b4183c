"""The closed sets of the domain, each written once: the ORM's CHECK constraints (``one_of``), the API's schemas
(the Literal types themselves), the pages' labels (a test holds every label table to its set) and the services
read them from here; tests/models/test_vocabulary.py compares each with the CHECK constraints that the migrations
built, on both databases. Adding a value: add it here, write a migration that changes the CHECK, label it."""

from __future__ import annotations

from typing import Any, Literal, get_args

# -- protection --------------------------------------------------------------------------------------------------
DerivedFlag = Literal["unaccompanied_child", "separated_child", "older_person_alone"]  # by protection.rules
RecordedFlag = Literal["pregnancy", "disability", "serious_medical", "survivor_of_violence"]  # by an officer
FlagKind = Literal[DerivedFlag, RecordedFlag]
FlagSource = Literal["derived", "recorded"]
# An officer records an intention to seek asylum first; the claim's states after it are recorded from the decisions.
DecidedClaimState = Literal["pending", "granted", "refused", "appeal", "final_refusal", "withdrawn"]
ClaimState = Literal["intention", DecidedClaimState]
ReferralKind = Literal[
    "trafficking", "refugee_authority", "child_protection", "medical", "psychosocial", "legal", "shelter"
]
ReferralState = Literal["open", "accepted", "closed"]
CaseKind = Literal["child_protection", "trafficking", "gender_based_violence", "medical", "general"]
CaseState = Literal["open", "closed"]

# -- screening ---------------------------------------------------------------------------------------------------
AlertKind = Literal["watchlist", "lost_document", "same_biometrics", "same_document", "same_identity"]
AlertState = Literal["open", "under_review", "confirmed", "dismissed"]
ACTIVE_ALERT_STATES: tuple[AlertState, ...] = ("open", "under_review")  # still on an analyst's queue
DECIDED_ALERT_STATES: tuple[AlertState, ...] = ("confirmed", "dismissed")


def values(closed_set: Any) -> tuple[str, ...]:
    """The values of a Literal type, nested Literals flattened, in their written order."""
    out: list[str] = []
    for arg in get_args(closed_set):
        out.extend(values(arg) if get_args(arg) else [arg])
    return tuple(out)


def one_of(column: str, closed_set: Any) -> str:
    """The SQL of a CHECK constraint that holds ``column`` to a closed set."""
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values(closed_set))
    return f"{column} IN ({quoted})"
