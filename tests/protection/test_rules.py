"""Protection rules as tables: the Washington Group cut-off, trafficking indicators, claim moves, the gate's holds."""

import pytest

from travesia.models import vocabulary
from travesia.protection import rules
from travesia.protection.rules import ProtectionFacts

NONE = dict.fromkeys(rules.WG_DOMAINS, "no_difficulty")


@pytest.mark.parametrize(
    ("changes", "domains"),
    [
        ({}, []),
        ({"walking": "some_difficulty"}, []),
        ({"walking": "a_lot_of_difficulty"}, ["walking"]),
        ({"seeing": "cannot_do", "communication": "a_lot_of_difficulty"}, ["seeing", "communication"]),
    ],
)
def test_washington_group_cut_off(changes, domains):
    assert rules.wg_disability({**NONE, **changes}) == domains


def test_washington_group_needs_every_domain_and_known_answers():
    with pytest.raises(ValueError, match="missing: hearing"):
        rules.wg_disability({k: v for k, v in NONE.items() if k != "hearing"})
    with pytest.raises(ValueError, match="seeing"):
        rules.wg_disability({**NONE, "seeing": "maybe"})


@pytest.mark.parametrize(
    ("present", "outcome"),
    [
        ([], "none"),
        (["fearful_or_coached"], "watch"),
        (["fearful_or_coached", "signs_of_abuse"], "watch"),
        (["fearful_or_coached", "signs_of_abuse", "deceived_about_job"], "refer"),
        (["documents_held_by_others"], "refer"),
    ],
)
def test_trafficking_scores(present, outcome):
    result = rules.score_trafficking(dict.fromkeys(present, True) | {"movement_restricted": False})
    assert result.outcome == outcome and sorted(result.reasons) == sorted(present)


def test_unknown_indicators_are_refused():
    with pytest.raises(ValueError, match="Not a trafficking indicator: vibes"):
        rules.score_trafficking({"vibes": True})


def test_claim_moves():
    assert rules.can_move_claim("intention", "pending") and rules.can_move_claim("refused", "appeal")
    assert not rules.can_move_claim("granted", "refused") and not rules.can_move_claim("intention", "granted")
    assert not rules.can_move_claim("final_refusal", "appeal")


@pytest.mark.parametrize(
    ("facts", "reasons"),
    [
        (ProtectionFacts(), []),
        (ProtectionFacts(claim_states=("final_refusal",)), []),
        (ProtectionFacts(claim_states=("withdrawn", "intention")), ["claim:intention"]),
        (ProtectionFacts(claim_states=("refused",)), ["claim:refused"]),  # still open to appeal
        (ProtectionFacts(claim_states=("appeal",)), ["claim:appeal"]),
        (ProtectionFacts(claim_states=("granted",)), ["claim:granted"]),
        (ProtectionFacts(open_flags=("pregnancy",)), ["flag:pregnancy"]),
        (ProtectionFacts(open_referrals=("trafficking",)), ["referral:trafficking"]),
        (ProtectionFacts(open_referrals=("medical",)), []),
        (ProtectionFacts(open_cases=("child_protection",)), ["case:child_protection"]),
        (ProtectionFacts(refer_screening=True), ["screening:trafficking_refer"]),
    ],
)
def test_holds(facts, reasons):
    assert rules.holds(facts) == reasons


@pytest.mark.parametrize(
    ("age", "child_status", "adults_with", "flags"),
    [
        (9, "unaccompanied", 0, ["unaccompanied_child"]),
        (15, "separated", 1, ["separated_child"]),
        (12, "accompanied", 2, []),
        (61, None, 0, ["older_person_alone"]),
        (61, None, 1, []),  # an older person with another adult is not alone
        (59, None, 0, []),
        (60, None, 0, ["older_person_alone"]),  # from 60 on
        (35, None, 0, []),
    ],
)
def test_derived_rules(age, child_status, adults_with, flags):
    assert rules.derived_flags(rules.Traveller(age, child_status, adults_with)) == flags


def test_every_derived_flag_has_one_rule():
    assert set(rules.DERIVED_RULES) == set(vocabulary.values(vocabulary.DerivedFlag))


@pytest.mark.parametrize(
    ("age", "child_protection"),
    [(0, True), (17, True), (18, False), (77, False), (None, True)],  # unknown age: the officer knows
)
def test_child_protection_cases_are_for_children(age, child_protection):
    kinds = rules.case_kinds_for(age)
    assert ("child_protection" in kinds) is child_protection
    assert {"trafficking", "gender_based_violence", "medical", "general"} <= set(kinds)
