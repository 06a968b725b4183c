"""The scripted exercises of training mode, one or more per role (the seeds' IOM agreement asks for the training of
officials): a scenario, the steps, and the check that tells the trainee it is done, read from what they did (never
from a score). Pure: the checks' SQL is in training.repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from travesia.core.errors import N_
from travesia.core.principal import Role
from travesia.enrolment.mrz_names import compose_td3

MARKER = "TRAINING"  # a file in the data folder: made by `travesia demo training`, read by `travesia serve`


GOOD_MRZ = compose_td3(
    surnames="Joseph", given_names="Wideline", number="HT4821907", issuing_state="HTI", nationality="HTI",
    birth=date(1992, 3, 14), sex="F", expiry=date(2031, 1, 12),
)  # fmt: skip
# The same zone as a hurried officer types it: one digit of the passport number wrong, so its check digit fails.
BAD_MRZ = GOOD_MRZ.replace("HT4821907", "HT4821901", 1)


@dataclass(frozen=True)
class Exercise:
    key: str
    roles: frozenset[Role]
    title: str
    scenario: str
    steps: tuple[str, ...]


EXERCISES = (
    Exercise(
        "family_bad_mrz",
        frozenset({Role.REGISTRATION_OFFICER, Role.SUPERVISOR}),
        N_("Register a family whose passport zone is mistyped"),
        N_(
            "Wideline Joseph (born 14 March 1992, Haitian) arrives with her son Jean (born 2018). Her passport's zone, "
            "as it was typed at the first desk, is below: the page will refuse it."
        ),
        (
            N_("Open Register, choose A family and fill in the mother, then add the son."),
            N_("Paste the mistyped zone into the mother's document: read which line and which field the page names."),
            N_("Compare with the passport: the document number is HT4821907. Correct the zone and save."),
            N_("Check the receipt: both are registered, the son as accompanied."),
        ),
    ),
    Exercise(
        "review_alert",
        frozenset({Role.ANALYST, Role.SUPERVISOR}),
        N_("Review a watchlist alert"),
        N_(
            "The synthetic watchlist found possible matches among the registrations. An alert is evidence to weigh, "
            "never a decision."
        ),
        (
            N_("Open Alerts and filter by the list; take the first alert."),
            N_("Compare the registration and the entry field by field, with the evidence in bits."),
            N_("Propose to confirm, or dismiss it, writing your reason; a second analyst confirms."),
        ),
    ),
    Exercise(
        "refuse_protected",
        frozenset({Role.PROGRAMME_OFFICER}),
        N_("A protected person is refused on a return flight"),
        N_(
            "A return flight to Haiti is planned. Among the Haitians registered, one has declared an intention to "
            "seek asylum: non-refoulement forbids placing them, whatever else the file says."
        ),
        (
            N_("Open Flights and the planned flight to HTI."),
            N_("Search the candidates; try to place the person whose row names the asylum intention."),
            N_("Read the refusal and its reason: the person stays off the manifest."),
        ),
    ),
    Exercise(
        "child_alone_case",
        frozenset({Role.PROTECTION_OFFICER}),
        N_("Open a case for a child travelling alone"),
        N_(
            "The intake lists children flagged as unaccompanied at registration. Each needs a child-protection case "
            "and a best-interests follow-up."
        ),
        (
            N_("Open Protection, then the No case yet tab, filtered by unaccompanied child."),
            N_("Open a child's file and open a child-protection case."),
            N_("Plan a follow-up and write a note only protection staff can read."),
        ),
    ),
    Exercise(
        "export_agreement",
        frozenset({Role.PARTNER_LIAISON}),
        N_("Export under a data-sharing agreement"),
        N_(
            "A partner asks for this month's registrations. Only what the agreement names may leave, for one of its "
            "purposes."
        ),
        (
            N_("Open Partners; read which fields each agreement shares."),
            N_("Choose the agreement and one of its own purposes, and this month's dates."),
            N_("Run the export and read what left, in the audit trail too."),
        ),
    ),
)


def for_roles(roles: frozenset[Role] | set[Role]) -> list[Exercise]:
    return [e for e in EXERCISES if e.roles & set(roles)]
