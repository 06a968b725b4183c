"""Cases, notes by visibility, follow-ups, claims that move only forward, referrals only with consent, and the
protection officer's queue."""

import json
import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import token_for
from travesia.core.principal import Role
from travesia.models import User


def test_claims_move_only_forward_and_keep_their_history(client, people, officer, protection_officer):
    person = people["single"]
    claim = client.post(f"/api/v1/persons/{person}/asylum-intention", json={"note": "at the desk"}, headers=officer)
    assert claim.status_code == 201, claim.text  # any officer records the intention
    cid = claim.json()["id"]
    url = f"/api/v1/protection/claims/{cid}"
    today = date.today()
    assert (
        client.post(url, json={"state": "granted", "on": today.isoformat()}, headers=protection_officer).status_code
        == 409
    )
    future = client.post(
        url, json={"state": "pending", "on": (today + timedelta(days=2)).isoformat()}, headers=protection_officer
    )
    assert future.status_code == 422 and "on" in future.text
    pending = {"state": "pending", "on": today.isoformat(), "authority": "ONPAR", "authority_ref": "ONPAR-2026-1"}
    assert client.post(url, json=pending, headers=protection_officer).status_code == 200
    done = client.post(url, json={"state": "granted", "on": today.isoformat()}, headers=protection_officer).json()
    assert [h["state"] for h in done["history"]] == ["intention", "pending", "granted"] and done["authority"] == "ONPAR"
    assert client.post(url, json={"state": "pending", "on": today.isoformat()}, headers=officer).status_code == 403


def test_referrals_need_consent(client, people, protection_officer):
    url = f"/api/v1/persons/{people['single']}/referrals"
    refused = client.post(
        url, json={"kind": "medical", "partner": "MSF", "consent": "refused"}, headers=protection_officer
    )
    assert refused.status_code == 422 and "consent" in refused.text
    missing = client.post(url, json={"kind": "medical", "partner": "MSF"}, headers=protection_officer)
    assert missing.status_code == 422 and "consent" in missing.text


def test_disability_is_recorded_with_the_washington_group_set(client, people, officer):
    url = f"/api/v1/persons/{people['other']}/flags"
    bare = client.post(url, json={"kind": "disability"}, headers=officer)
    assert bare.status_code == 422 and "washington_group" in bare.text
    answers = dict.fromkeys(
        ["seeing", "hearing", "walking", "cognition", "self_care", "communication"], "some_difficulty"
    )
    below = client.post(url, json={"kind": "disability", "washington_group": answers}, headers=officer)
    assert below.status_code == 422 and "washington_group" in below.text
    made = client.post(
        url, json={"kind": "disability", "washington_group": {**answers, "hearing": "cannot_do"}}, headers=officer
    )
    assert made.status_code == 201 and made.json()["details"]["domains"] == ["hearing"]


def test_notes_are_shown_by_visibility(client, session, make_user, auth_ctx, people, protection_officer):
    colleague = token_for(make_user, session, auth_ctx, "proteccion.dos", Role.PROTECTION_OFFICER)
    case = client.post(f"/api/v1/persons/{people['child_alone']}/cases", json={"kind": "child_protection"},
                       headers=protection_officer).json()  # fmt: skip
    notes = f"/api/v1/protection/cases/{case['id']}/notes"
    client.post(notes, json={"text": "team note"}, headers=protection_officer)
    client.post(notes, json={"text": "disclosed abuse; for the assigned officer", "visibility": "assigned"},
                headers=protection_officer)  # fmt: skip
    mine = [n["text"] for n in client.get(notes, headers=protection_officer).json()]
    theirs = [n["text"] for n in client.get(notes, headers=colleague).json()]
    assert len(mine) == 2 and theirs == ["team note"]
    follow = client.post(f"/api/v1/protection/cases/{case['id']}/follow-ups",
                         json={"due_on": (date.today() + timedelta(days=3)).isoformat(), "what": "family tracing"},
                         headers=protection_officer)  # fmt: skip
    assert follow.status_code == 201
    done = client.post(f"/api/v1/protection/follow-ups/{follow.json()['id']}/done", headers=colleague)
    assert done.status_code == 200 and done.json()["done_at"]
    registrar = session.execute(select(User.id).where(User.username == "oficial.registro")).scalar_one_or_none()
    if registrar is not None:
        wrong = client.post(f"/api/v1/protection/cases/{case['id']}/assign", json={"to": str(registrar)},
                            headers=protection_officer)  # fmt: skip
        assert wrong.status_code == 422 and "to" in wrong.text
    colleague_id = session.execute(select(User.id).where(User.username == "proteccion.dos")).scalar_one()
    moved = client.post(f"/api/v1/protection/cases/{case['id']}/assign", json={"to": str(colleague_id)},
                        headers=protection_officer)  # fmt: skip
    assert moved.status_code == 200 and moved.json()["assigned_to_id"] == str(colleague_id)
    assert len(client.get(notes, headers=colleague).json()) == 2  # now the assigned officer, they read it
    close = f"/api/v1/protection/cases/{case['id']}/close"
    assert client.post(close, json={"reason": "x"}, headers=protection_officer).status_code == 403  # no longer theirs
    assert client.post(close, json={"reason": "reunited"}, headers=colleague).status_code == 200


def test_a_derived_flag_names_the_rule_that_raised_it_in_the_audit_trail(session, people):
    from travesia.models import AuditEvent, ProtectionFlag

    child = people["child_alone"]
    flags = session.execute(select(ProtectionFlag).where(ProtectionFlag.person_id == child)).scalars().all()
    assert [(f.kind, f.source) for f in flags] == [("unaccompanied_child", "derived")]
    events = (
        session.execute(
            select(AuditEvent).where(AuditEvent.action == "protection.flag_derived", AuditEvent.record_id == str(child))
        )
        .scalars()
        .all()
    )
    details = json.loads(events[0].details) if len(events) == 1 else {}
    assert details["rule"] == "unaccompanied_child"
    assert details["flag"] == str(flags[0].id)
    adults = [people["single"], people["other"], people["father"]]
    assert not session.execute(select(ProtectionFlag).where(ProtectionFlag.person_id.in_(adults))).scalars().all()


def test_case_kinds_fit_the_persons_age(client, people, protection_officer, session, make_user):
    adult = client.post(
        f"/api/v1/persons/{people['single']}/cases", json={"kind": "child_protection"}, headers=protection_officer
    )
    assert adult.status_code == 422 and adult.json()["detail"][0]["loc"][-1] == "kind"
    general = client.post(
        f"/api/v1/persons/{people['single']}/cases", json={"kind": "medical"}, headers=protection_officer
    )
    assert general.status_code == 201
    # the page offers what fits, and nothing is chosen for the officer
    make_user("proteccion.casos", Role.PROTECTION_OFFICER)
    from tests.conftest import login

    login(client, "proteccion.casos")
    page = client.get(f"/protection/persons/{people['single']}").text
    [select] = re.findall(r'<select id="case-kind".*?</select>', page, re.S)
    assert 'value="child_protection"' not in select and 'value="trafficking"' in select
    assert '<option value="" selected disabled>' in select and select.count("selected") == 1
    child = client.get(f"/protection/persons/{people['child_alone']}").text
    assert 'value="child_protection"' in re.findall(r'<select id="case-kind".*?</select>', child, re.S)[0]
