"""Identity resolution end to end, on SQLite and PostgreSQL: the online step attaches or proposes, analysts merge
and split, the supervisor undoes, no encounter is ever lost, and the person table replays from the decisions."""

import uuid

import pytest
from sqlalchemy import select

from tests.biometrics.test_pipeline import enrol
from travesia.biometrics import jobs as bio_jobs
from travesia.identity import rules
from travesia.identity import service as identity
from travesia.models import Encounter, IdentityDecision


def passport(number):
    return [{"doc_type": "passport", "number": number, "issuing_state": "VEN"}]


def process(app):
    """The background steps, as the server runs them: biometrics, then screening and resolution."""
    bio_jobs.run_pending(app.state.db, app.state.biometrics)
    app.state.pipeline.wake()
    app.state.pipeline.run_once()


def person_of(session, encounter_id):
    session.expire_all()
    return session.get(Encounter, encounter_id).person_id


def decisions(session, **where):
    session.expire_all()
    stmt = select(IdentityDecision).order_by(IdentityDecision.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(IdentityDecision, key) == value)
    return session.execute(stmt).scalars().all()


def everyone(session):
    session.expire_all()
    return {eid: pid for eid, pid in session.execute(select(Encounter.id, Encounter.person_id))}


def assert_replays(session):
    check = identity.replay_check(session)
    assert check.differences == [] and check.encounters == len(everyone(session))


# -- online, in the pipeline ---------------------------------------------------------------------------------------
def test_the_same_person_again_with_biometrics_is_attached_with_evidence(
    client, app, session, officer, face_png, face_again, finger_of
):
    first = enrol(client, officer, face_png, {2: finger_of(31, 0), 7: finger_of(32, 0)})
    process(app)
    again = enrol(client, officer, face_again, {2: finger_of(31, 1), 7: finger_of(32, 2)}, surnames="Perez Nunez")
    process(app)
    assert person_of(session, again) == person_of(session, first)
    [attach] = decisions(session, kind="attach")
    assert attach.state == "applied" and attach.source == "online" and attach.author_id is None
    assert attach.score >= rules.ATTACH and attach.encounter_ids == [str(again)]
    assert {"face", "finger", "name"} <= {line["feature"] for line in attach.evidence}
    # the biometric lines are the biometric step's calibrated bits, in words, each finger's bits named
    lines = {line["feature"]: line for line in attach.evidence}
    assert lines["face"]["level"] == "very_strong_for" and lines["face"]["bits"] >= 10
    assert (
        lines["finger"]["bits"] > 0
        and lines["finger"]["query"].startswith("2: +")
        and ", 7: " in lines["finger"]["query"]
    )
    assert_replays(session)
    process(app)  # idempotent: nothing new
    assert len(decisions(session)) == 1


def test_the_same_document_and_name_without_biometrics_is_only_proposed(client, app, session, officer, analyst):
    first = enrol(client, officer, documents=passport("V1234567"))
    process(app)
    again = enrol(client, officer, documents=passport("V1234567"), given_names="Jose Gregorio")
    process(app)
    assert person_of(session, again) != person_of(session, first)  # names and a document alone never attach
    [proposal] = decisions(session, state="proposed")
    assert proposal.from_person_id == person_of(session, again) and proposal.person_id == person_of(session, first)
    listed = client.get("/api/v1/identity/decisions?state=proposed", headers=analyst).json()
    assert [d["id"] for d in listed] == [proposal.id]
    url = f"/api/v1/identity/decisions/{proposal.id}/accept"
    assert client.post(url, json={}, headers=analyst).status_code == 422  # a reason is required
    accepted = client.post(url, json={"reason": "same passport, same person"}, headers=analyst)
    assert accepted.status_code == 201 and accepted.json()["state"] == "applied"
    assert person_of(session, again) == person_of(session, first)
    assert client.post(url, json={"reason": "twice"}, headers=analyst).status_code == 409
    assert_replays(session)


def test_the_same_face_under_another_name_is_neither_attached_nor_proposed(client, app, session, officer, face_png):
    first = enrol(client, officer, face_png)
    process(app)
    other = enrol(client, officer, face_png, given_names="Laura", surnames="Gómez", sex="F", birth_date="1971-01-01")
    process(app)
    assert person_of(session, other) != person_of(session, first)
    assert decisions(session) == []  # the usurpation alert from screening is the analyst's lead, not a merge


# -- decisions by people -------------------------------------------------------------------------------------------
def test_merge_split_and_undo_keep_every_encounter_and_replay(client, app, session, officer, analyst, supervisor):
    ids = [enrol(client, officer, given_names=f"Persona {i}") for i in range(4)]
    a, b, c, d = (person_of(session, e) for e in ids)

    def merge(source, target, who=analyst):
        return client.post(f"/api/v1/persons/{source}/merge", json={"into": str(target), "reason": "r"}, headers=who)

    first, second = merge(b, a).json(), merge(c, a).json()
    assert {person_of(session, e) for e in ids[:3]} == {a} and person_of(session, ids[3]) == d
    assert merge(b, d).status_code == 409  # b now redirects to a
    followed = client.get(f"/api/v1/persons/{b}", headers=officer).json()
    assert followed["id"] == str(a) and len(followed["encounters"]) == 3  # the old id answers for the merged person
    split = client.post(
        f"/api/v1/persons/{a}/split", json={"encounter_ids": [str(ids[2])], "reason": "twin brother"}, headers=analyst
    )
    assert split.status_code == 201
    moved_to = person_of(session, ids[2])
    assert moved_to not in (a, c)

    undo = f"/api/v1/identity/decisions/{first['id']}/undo"
    assert client.post(undo, json={"reason": "wrong"}, headers=analyst).status_code == 403  # the supervisor's
    assert client.post(undo, json={"reason": "wrong"}, headers=supervisor).status_code == 201
    assert person_of(session, ids[1]) == b
    # the second merge's encounter was split off since: undoing that merge would overwrite the split
    late = client.post(f"/api/v1/identity/decisions/{second['id']}/undo", json={"reason": "x"}, headers=supervisor)
    assert late.status_code == 409
    assert (
        client.post(
            f"/api/v1/identity/decisions/{split.json()['id']}/undo", json={"reason": "no"}, headers=supervisor
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/identity/decisions/{second['id']}/undo", json={"reason": "x"}, headers=supervisor
        ).status_code
        == 201
    )

    now = everyone(session)
    assert set(ids) <= set(now)  # no encounter lost
    assert [now[e] for e in ids] == [a, b, c, d]  # every decision undone: back as registered
    assert_replays(session)
    assert client.get("/api/v1/identity/replay", headers=supervisor).json()["differences"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"encounter_ids": [], "reason": "r"}, "encounter_ids"),
        ({"encounter_ids": ["x"], "reason": "r"}, "encounter_ids"),
    ],
)
def test_bad_split_requests_name_the_field(client, session, officer, analyst, body, field):
    person = person_of(session, enrol(client, officer))
    response = client.post(f"/api/v1/persons/{person}/split", json=body, headers=analyst)
    assert response.status_code == 422 and field in response.text


def test_impossible_decisions_are_refused_and_change_nothing(client, session, officer, analyst):
    one, two = enrol(client, officer), enrol(client, officer, given_names="Otra")
    p1, p2 = person_of(session, one), person_of(session, two)
    before = everyone(session)
    self_merge = client.post(f"/api/v1/persons/{p1}/merge", json={"into": str(p1), "reason": "r"}, headers=analyst)
    assert self_merge.status_code == 422
    unknown = client.post(
        f"/api/v1/persons/{uuid.uuid4()}/merge", json={"into": str(p2), "reason": "r"}, headers=analyst
    )
    assert unknown.status_code == 404
    whole = client.post(
        f"/api/v1/persons/{p1}/split", json={"encounter_ids": [str(one)], "reason": "r"}, headers=analyst
    )
    assert whole.status_code == 422  # a person keeps at least one registration
    theirs = client.post(
        f"/api/v1/persons/{p1}/split", json={"encounter_ids": [str(two)], "reason": "r"}, headers=analyst
    )
    assert theirs.status_code == 422
    assert client.post(f"/api/v1/persons/{p1}/merge", json={"into": str(p2)}, headers=analyst).status_code == 422
    assert everyone(session) == before and decisions(session) == []


# -- the pure rules ------------------------------------------------------------------------------------------------
def test_replay_refuses_an_inconsistent_log():
    registered = {"e1": "p1", "e2": "p2"}
    assert rules.replay(registered, [[("e2", "p2", "p1")], [("e2", "p1", "p3")]]) == {"e1": "p1", "e2": "p3"}
    with pytest.raises(ValueError, match="e2"):
        rules.replay(registered, [[("e2", "p9", "p1")]])


def test_attaching_needs_biometrics_never_names_alone():
    assert rules.online_verdict({"p1": (0.999, False)}).action == "propose"
    assert rules.online_verdict({"p1": (0.999, True), "p2": (0.6, True)}) == rules.Verdict("attach", "p1", 0.999)
    assert rules.online_verdict({"p1": (0.2, True)}).action == "none"
    assert rules.online_verdict({}).action == "none"
