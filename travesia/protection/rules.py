"""Protection rules, pure: the Washington Group short set, trafficking indicators, claim states, derived
vulnerability, and the non-refoulement gate's holds. No database; tested with tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.rules import ADULT_AGE
from travesia.models.vocabulary import CaseKind, DerivedFlag, values

# -- Washington Group Short Set on Functioning (WG-SS) ------------------------------------------------------------
WG_DOMAINS = ("seeing", "hearing", "walking", "cognition", "self_care", "communication")
WG_ANSWERS = ("no_difficulty", "some_difficulty", "a_lot_of_difficulty", "cannot_do")


def wg_disability(answers: dict[str, str]) -> list[str]:
    """The domains with 'a lot of difficulty' or 'cannot do at all': the WG's recommended cut-off (disability 3)
    for identifying persons with disability. Every domain must be answered."""
    missing = [d for d in WG_DOMAINS if d not in answers]
    if missing:
        raise RuleProblem(
            N_("Answer every domain of the Washington Group short set; missing: %(missing)s."),
            missing=", ".join(missing),
        )
    bad = [d for d, a in answers.items() if d not in WG_DOMAINS or a not in WG_ANSWERS]
    if bad:
        raise RuleProblem(N_("Not a Washington Group domain or answer: %(bad)s."), bad=", ".join(sorted(bad)))
    return [d for d in WG_DOMAINS if answers[d] in ("a_lot_of_difficulty", "cannot_do")]


# -- trafficking indicators (after the IOM and UNODC published indicator lists) -------------------------------------
# Strong indicators alone call for a referral; general ones add up.
STRONG_INDICATORS = {
    "documents_held_by_others": "Someone else holds the person's identity or travel documents",
    "debt_to_recruiter": "Owes a debt to the recruiter or organiser that they cannot freely repay",
    "forced_work_or_sex": "Forced to work, beg, commit crimes or provide sex",
    "movement_restricted": "Not free to leave or move without permission",
    "threats_to_person_or_family": "Threats or violence against the person or their family",
    "child_with_unrelated_adult_controlling": "A child in the control of an unrelated adult who speaks for them",
}
GENERAL_INDICATORS = {
    "deceived_about_job": "Recruited with a job offer that turned out different",
    "does_not_know_destination_address": "Does not know the address or employer at destination",
    "journey_paid_by_third_party": "Journey paid by someone other than family, to be repaid",
    "someone_else_speaks_for_them": "Someone else answers for the person",
    "signs_of_abuse": "Visible injuries or signs of abuse",
    "no_control_of_earnings_or_money": "No control over their own money or earnings",
    "fearful_or_coached": "Fearful, anxious or gives a coached account",
}
INDICATORS = {**STRONG_INDICATORS, **GENERAL_INDICATORS}
GENERAL_FOR_REFERRAL = 3


@dataclass(frozen=True)
class TraffickingScore:
    outcome: str  # refer, watch, none
    reasons: list[str]  # the indicators present, strong ones first


def score_trafficking(answers: dict[str, bool]) -> TraffickingScore:
    unknown = sorted(set(answers) - set(INDICATORS))
    if unknown:
        raise RuleProblem(N_("Not a trafficking indicator: %(unknown)s."), unknown=", ".join(unknown))
    strong = [k for k in STRONG_INDICATORS if answers.get(k)]
    general = [k for k in GENERAL_INDICATORS if answers.get(k)]
    if strong or len(general) >= GENERAL_FOR_REFERRAL:
        return TraffickingScore("refer", strong + general)
    if general:
        return TraffickingScore("watch", general)
    return TraffickingScore("none", [])


# -- asylum claims ----------------------------------------------------------------------------------------------------
CLAIM_MOVES = {
    "intention": {"pending", "withdrawn"},
    "pending": {"granted", "refused", "withdrawn"},
    "refused": {"appeal", "final_refusal"},
    "appeal": {"granted", "final_refusal", "withdrawn"},
    "granted": set(),
    "final_refusal": set(),
    "withdrawn": set(),
}
# A claim protects from return until it ends in a final refusal or is withdrawn: an intention not yet referred, a
# pending claim, a refusal still open to appeal, an appeal, and a grant all hold.
CLAIM_RELEASES = frozenset({"final_refusal", "withdrawn"})


def can_move_claim(current: str, new: str) -> bool:
    return new in CLAIM_MOVES.get(current, set())


# -- derived vulnerability -------------------------------------------------------------------------------------------
# A derived rule is one function of a Traveller, registered under the flag it raises (a kind of DerivedFlag in
# travesia.models.vocabulary); the service stores the flag and audits that the rule fired. docs/architecture.md:
# "How to add a derived protection rule".
OLDER_AGE = 60


@dataclass(frozen=True)
class Traveller:
    """One registration seen by the derived rules: age on the day, the child status enrolment derived (None for an
    adult), and how many adults travel with them."""

    age: int
    child_status: str | None
    adults_with: int


def unaccompanied_child(t: Traveller) -> bool:
    return t.child_status == "unaccompanied"


def separated_child(t: Traveller) -> bool:
    return t.child_status == "separated"


def older_person_alone(t: Traveller) -> bool:
    return t.age >= OLDER_AGE and t.adults_with == 0


DERIVED_RULES: dict[DerivedFlag, Callable[[Traveller], bool]] = {
    "unaccompanied_child": unaccompanied_child,
    "separated_child": separated_child,
    "older_person_alone": older_person_alone,
}


def derived_flags(t: Traveller) -> list[DerivedFlag]:
    """The flags the rules raise for a traveller, in the rules' order."""
    return [kind for kind, rule in DERIVED_RULES.items() if rule(t)]


# -- which cases fit the person ----------------------------------------------------------------------------------
CHILD_ONLY_CASES: frozenset[CaseKind] = frozenset({"child_protection"})


def case_kinds_for(age: int | None) -> list[CaseKind]:
    """The kinds of case an officer may open for a person of this age (today, from the latest registration): child
    protection for a child only; every other kind for anyone. Unknown age: every kind (the officer knows)."""
    return [k for k in values(CaseKind) if age is None or age < ADULT_AGE or k not in CHILD_ONLY_CASES]  # type: ignore[misc]


# -- the non-refoulement gate ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProtectionFacts:
    """What protection holds about one person, as the repository reads it."""

    open_flags: tuple[str, ...] = ()
    claim_states: tuple[str, ...] = ()
    open_referrals: tuple[str, ...] = ()  # kinds of referrals not closed
    open_cases: tuple[str, ...] = ()  # kinds of cases not closed
    refer_screening: bool = False  # the latest trafficking screening said 'refer' and no referral followed


def holds(facts: ProtectionFacts) -> list[str]:
    """Every reason this person may not be placed on a repatriation manifest or boarded; empty when none.

    Reason codes only (no personal data): they go into the audit trail and to the programme officer, who needs
    to know *that* a person is protected, not why in detail."""
    reasons = [f"flag:{kind}" for kind in sorted(set(facts.open_flags))]
    reasons += [f"claim:{state}" for state in sorted(set(facts.claim_states)) if state not in CLAIM_RELEASES]
    if "trafficking" in facts.open_referrals:
        reasons.append("referral:trafficking")
    if facts.refer_screening and "trafficking" not in facts.open_referrals:
        reasons.append("screening:trafficking_refer")
    reasons += [f"case:{kind}" for kind in sorted(set(facts.open_cases))]
    return reasons
