"""Screening end to end, on SQLite and PostgreSQL: list imports (all or nothing), the pipeline step after an
enrolment through the job queue, re-screening after a list update, the usurpation rules, the four-eyes review,
the yente-compatible match, and retries that never lose an enrolment."""

import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.biometrics.test_pipeline import enrol
from tests.conftest import csrf_of, login, token_for
from travesia.biometrics import jobs as bio_jobs
from travesia.core.errors import InvalidInput
from travesia.core.principal import Role, cli_principal
from travesia.models import Alert, BiometricSample, Encounter, Screening, WatchlistEntry
from travesia.screening import jobs, listing, repository, service
from travesia.screening.schemas import WatchlistIn

ADMIN = cli_principal("test")
LISTED = {
    "id": "ofac-1",
    "schema": "Person",
    "properties": {
        "name": ["Youssef Haddad"],
        "alias": ["يوسف حداد"],
        "birthDate": ["1990-05-17"],
        "nationality": ["sy"],
        "gender": ["male"],
    },
}


def jsonl(*entities) -> io.StringIO:
    return io.StringIO("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities))


@pytest.fixture
def persons_list(session):
    listing.create_list(
        session,
        ADMIN,
        WatchlistIn(name="wanted", title="Wanted", owner="DIJ", legal_basis="Ley 3 de 2008", threshold=0.7),
    )
    session.commit()
    return "wanted"


def load(session, name, *entities, **kwargs):
    report = listing.import_list(session, ADMIN, name, jsonl(*entities), file_name="l.jsonl", **kwargs)
    session.commit()
    return report


@pytest.fixture
def analysts(make_user, session, auth_ctx):
    return (
        token_for(make_user, session, auth_ctx, "analista.uno", Role.ANALYST),
        token_for(make_user, session, auth_ctx, "analista.dos", Role.ANALYST),
    )


def screen_now(app):
    app.state.pipeline.wake()
    return app.state.pipeline.run_once()


def alerts_of(session, encounter_id):
    session.expire_all()
    return session.execute(select(Alert).where(Alert.encounter_id == encounter_id)).scalars().all()


# -- lists ---------------------------------------------------------------------------------------------------------
def test_a_bad_list_file_is_refused_whole_naming_line_and_field(session, persons_list):
    good = dict(LISTED)
    bad_date = {**LISTED, "id": "x2", "properties": {"name": ["A B"], "birthDate": ["1990-13-45"]}}
    with pytest.raises(InvalidInput) as refused:
        listing.import_list(session, ADMIN, persons_list, jsonl(good, bad_date), file_name="l.jsonl")
    assert "line 2, properties.birthDate" in str(refused.value.params["problems"])
    session.rollback()
    lines = io.StringIO(json.dumps(good) + "\n{not json\n" + json.dumps({**good, "schema": "Vessel"}) + "\n")
    with pytest.raises(InvalidInput) as refused:
        listing.import_list(session, ADMIN, persons_list, lines, file_name="l.jsonl")
    problems = refused.value.params["problems"]
    assert "line 2, json" in problems and "line 3, schema" in problems
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WatchlistEntry)) == 0


def test_a_document_number_longer_than_the_stored_key_is_refused_by_line_not_a_crash(session):
    """PostgreSQL refused the row (a 500 from the API) where SQLite stored it: the file is refused instead."""
    listing.create_list(
        session, ADMIN, WatchlistIn(name="docs", title="Docs", owner="DIJ", legal_basis="SLTD", kind="documents")
    )
    session.commit()
    long_number = {"id": "d1", "schema": "Passport", "properties": {"number": ["X" * 41]}}
    with pytest.raises(InvalidInput) as refused:
        listing.import_list(session, ADMIN, "docs", jsonl(long_number), file_name="l.jsonl")
    assert "line 1, properties.number" in str(refused.value.params["problems"])


def test_versions_record_the_delta_and_csv_maps_columns(session, persons_list):
    first = load(session, persons_list, LISTED, {**LISTED, "id": "ofac-2", "properties": {"name": ["Omar Nasser"]}})
    assert (first.added, first.removed) == (2, 0)
    changed = {**LISTED, "properties": {**LISTED["properties"], "birthDate": ["1990"]}}
    second = load(session, persons_list, changed)  # a full file: ofac-2 is gone
    assert (second.added, second.changed, second.removed, second.version) == (0, 1, 1, 2)
    delta = [{"op": "ADD", "entity": {"id": "ofac-3", "schema": "Person", "properties": {"name": ["Ana Li"]}}}]
    delta.append({"op": "DEL", "entity": {"id": "ofac-1"}})
    third = load(session, persons_list, *delta)
    assert (third.mode, third.added, third.removed) == ("delta", 1, 1)
    text = "Ref;Full name;DOB\nc-1;Jan Pyè Louis;1979\n".replace(";", ",")
    report = listing.import_list(
        session,
        ADMIN,
        persons_list,
        io.StringIO(text),
        file_name="l.csv",
        mapping={"id": "Ref", "name": "Full name", "birthDate": "DOB"},
        mode="delta",
    )
    assert report.added == 1
    entry = session.scalars(select(WatchlistEntry).where(WatchlistEntry.external_id == "c-1")).one()
    assert entry.properties == {"name": ["Jan Pyè Louis"], "birthDate": ["1979"]}


def changes_of(session, name, number):
    return {(row["external_id"], row["change"]) for row in listing.version_changes(session, name, number)}


def test_an_entry_removed_then_listed_again_comes_back_with_its_history_in_full_and_delta_mode(
    session, persons_list, app
):
    other = {**LISTED, "id": "ofac-2", "properties": {"name": ["Omar Nasser"]}}
    load(session, persons_list, LISTED, other)
    load(session, persons_list, other)  # full: ofac-1 removed
    again = load(session, persons_list, LISTED, other)  # full: listed again
    assert (again.added, again.removed, again.unchanged) == (1, 0, 1)
    delta = load(session, persons_list, {"op": "DEL", "entity": {"id": "ofac-1"}})
    changed = {**LISTED, "properties": {**LISTED["properties"], "birthDate": ["1990"]}}
    back = load(session, persons_list, {"op": "ADD", "entity": changed})
    assert (delta.removed, back.mode, back.added) == (1, "delta", 1)
    [row] = session.scalars(select(WatchlistEntry).where(WatchlistEntry.external_id == "ofac-1")).all()
    assert row.removed_version is None and row.properties["birthDate"] == ["1990"]
    assert [changes_of(session, persons_list, n) for n in range(1, 6)] == [
        {("ofac-1", "added"), ("ofac-2", "added")},
        {("ofac-1", "removed")},
        {("ofac-1", "relisted")},
        {("ofac-1", "removed")},
        {("ofac-1", "relisted")},
    ]
    history = [(c.change, v.number) for c, v in repository.entry_history(session, row.id)]
    assert history == [("added", 1), ("removed", 2), ("relisted", 3), ("removed", 4), ("relisted", 5)]
    # The screener follows: the entry is found again, with what the last version says.
    screener = service.Screener()
    service.sync(session, screener)
    [index] = screener.indexes.values()
    assert index.get(str(row.id)).birth_dates == ("1990",)


def test_version_changes_are_paged_by_list_id_and_unknown_versions_are_named(client, session, persons_list, analysts):
    load(session, persons_list, *({**LISTED, "id": f"e-{i:02d}"} for i in range(7)))
    manager = analysts[0]
    url = f"/api/v1/watchlists/{persons_list}/versions/1/changes"
    first = client.get(url, params={"limit": 4}, headers=manager).json()
    rest = client.get(url, params={"limit": 4, "after": first[-1]["external_id"]}, headers=manager).json()
    assert [r["external_id"] for r in first + rest] == [f"e-{i:02d}" for i in range(7)]
    assert {r["change"] for r in first + rest} == {"added"}
    missing = client.get(f"/api/v1/watchlists/{persons_list}/versions/9/changes", headers=manager)
    assert missing.status_code == 404 and missing.json()["detail"][0]["loc"][-1] == "number"


# -- the pipeline step ---------------------------------------------------------------------------------------------
def test_enrolment_is_screened_through_the_queue_and_the_officer_sees_only_that_a_review_is_pending(
    client, app, session, officer, analysts, persons_list
):
    load(session, persons_list, LISTED)
    hit = enrol(client, officer, given_names="Yusuf", surnames="Hadad", nationality="SYR")
    clear = enrol(client, officer, given_names="María", surnames="López")
    assert screen_now(app) >= 1
    [alert] = alerts_of(session, hit)
    assert alert.kind == "watchlist" and alert.state == "open" and alert.score >= 0.7
    assert {line.get("feature") for line in alert.explanation} >= {"name", "birth", "nationality"}
    assert alerts_of(session, clear) == []
    seen = client.get(f"/api/v1/encounters/{hit}/screening", headers=officer).json()
    assert seen["outcome"] == "review" and "wanted" not in json.dumps(seen)
    assert client.get(f"/api/v1/encounters/{clear}/screening", headers=officer).json()["outcome"] == "clear"
    assert client.get("/api/v1/alerts", headers=officer).status_code == 403  # least data
    queue = client.get("/api/v1/alerts", headers=analysts[0]).json()
    assert [a["id"] for a in queue] == [str(alert.id)]
    # A second run adds nothing twice.
    service.screen_encounter(session, app.state.screener, hit)
    session.commit()
    assert len(alerts_of(session, hit)) == 1


def test_a_failing_step_is_retried_and_never_loses_the_enrolment(client, app, session, officer, monkeypatch):
    eid = enrol(client, officer)

    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(service, "screen_encounter", broken)
    counts = jobs.run_pending(app.state.db, app.state.screener)
    assert counts == {"screened": 0, "failed": 1}
    session.expire_all()
    state = session.get(Screening, eid)
    assert state.status == "pending" and state.attempts == 1 and state.next_attempt_at is not None
    assert session.get(Encounter, eid) is not None
    assert client.get(f"/api/v1/encounters/{eid}/screening", headers=officer).json()["status"] == "pending"


def test_everyone_enrolled_is_rescreened_after_a_list_update(client, app, session, officer, persons_list):
    eid = enrol(client, officer, given_names="Youssef", surnames="Haddad", nationality="SYR")
    screen_now(app)
    assert alerts_of(session, eid) == []
    report = load(session, persons_list, LISTED)
    app.state.pipeline.after_list_import(report.version_id)
    app.state.pipeline.run_once()
    [alert] = alerts_of(session, eid)
    assert alert.kind == "watchlist"
    session.expire_all()
    assert session.get(Screening, eid).outcome == "review"


# -- usurpation --------------------------------------------------------------------------------------------------
def passport(number="X1234567", state="VEN"):
    return [{"doc_type": "passport", "number": number, "issuing_state": state}]


def test_a_document_reported_lost_or_stolen_opens_an_alert(client, app, session, officer):
    listing.create_list(
        session,
        ADMIN,
        WatchlistIn(name="sltd", title="Lost", owner="INTERPOL", legal_basis="SLTD", kind="documents"),
    )
    session.commit()
    doc = {"id": "d1", "schema": "Passport", "properties": {"number": ["X1234567"], "country": ["ve"]}}
    load(session, "sltd", doc)
    eid = enrol(client, officer, documents=passport())
    other_state = enrol(client, officer, documents=passport(state="COL"), given_names="Otro")
    child = enrol(client, officer, documents=passport("X7777777"), given_names="Niña", birth_date="2015-04-02")
    load(session, "sltd", doc, {**doc, "id": "d2", "properties": {"number": ["X7777777"], "country": ["ve"]}})
    screen_now(app)
    [alert] = alerts_of(session, eid)
    assert alert.kind == "lost_document" and alert.priority == 2  # urgent, an adult
    assert alerts_of(session, other_state) == []
    [for_child] = alerts_of(session, child)
    assert for_child.priority == 1  # urgent, and a child: first in the queue


def test_the_same_document_under_another_identity_opens_an_alert(client, app, session, officer):
    first = enrol(client, officer, documents=passport("P7654321"))
    screen_now(app)
    second = enrol(client, officer, documents=passport("P7654321"), given_names="Carlos", surnames="Mendoza Ruiz")
    screen_now(app)
    kinds = [a.kind for a in alerts_of(session, second)]
    assert kinds == ["same_document"]
    assert alerts_of(session, second)[0].other_encounter_id == first


def test_the_same_face_under_another_identity_opens_an_alert(
    client, app, session, officer, make_user, face_png, finger_of
):
    bio = app.state.biometrics
    first = enrol(client, officer, face_png, {3: finger_of(21, 0)})
    bio_jobs.run_pending(app.state.db, bio)
    second = enrol(client, officer, face_png, given_names="Laura", surnames="Gómez", birth_date="1971-01-01")
    bystander = enrol(client, officer, None, {3: finger_of(22, 0)}, given_names="Otra", surnames="Persona")
    bio_jobs.run_pending(app.state.db, bio)
    screen_now(app)
    [alert] = alerts_of(session, second)
    assert alert.kind == "same_biometrics" and alert.other_encounter_id == first

    # the reviewer sees both registrations' photos and the other's fingerprint, and no one else's images
    make_user("supervisora", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora")
    page = client.get(f"/alerts/{alert.id}").text
    shown = {
        side: re.findall(
            rf"/alerts/{alert.id}/samples/([0-9a-f-]+)", page.split(f'id="samples-{side}"')[1].split("</div>")[0]
        )
        for side in ("registration", "other")
    }
    assert len(shown["registration"]) == 1 and len(shown["other"]) == 2
    for sample_id in shown["registration"] + shown["other"]:
        image = client.get(f"/alerts/{alert.id}/samples/{sample_id}")
        assert image.status_code == 200 and image.headers["content-type"] in ("image/png", "image/jpeg")
    [theirs] = session.execute(select(BiometricSample.id).where(BiometricSample.encounter_id == bystander)).scalars()
    assert client.get(f"/alerts/{alert.id}/samples/{theirs}").status_code == 404


# -- review by two people ------------------------------------------------------------------------------------------
def test_confirming_needs_a_second_analyst(client, app, session, officer, analysts, persons_list):
    load(session, persons_list, LISTED)
    eid = enrol(client, officer, given_names="Youssef", surnames="Haddad", nationality="SYR")
    screen_now(app)
    [alert] = alerts_of(session, eid)
    first, second = analysts
    url = f"/api/v1/alerts/{alert.id}/review"
    assert client.post(url, json={"action": "take"}, headers=first).json()["state"] == "under_review"
    no_reason = client.post(url, json={"action": "propose"}, headers=first)
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert client.post(url, json={"action": "propose", "reason": "same name, date"}, headers=first).status_code == 200
    own = client.post(url, json={"action": "confirm", "reason": "I agree with myself"}, headers=first)
    assert own.status_code == 403
    done = client.post(url, json={"action": "confirm", "reason": "photo matches"}, headers=second).json()
    assert done["state"] == "confirmed" and done["decided_by_id"] != done["proposed_by_id"]
    again = client.post(url, json={"action": "dismiss", "reason": "changed my mind"}, headers=second)
    assert again.status_code == 409
    reviews = client.get(f"/api/v1/alerts/{alert.id}/reviews", headers=first).json()
    assert [r["action"] for r in reviews] == ["take", "propose", "confirm"]
    assert client.get(f"/api/v1/encounters/{eid}/screening", headers=officer).json()["outcome"] == "clear"


def test_the_review_page_shows_both_sides_and_the_explanation(client, app, session, officer, make_user, persons_list):
    make_user("supervisora", Role.SUPERVISOR)
    session.commit()
    listed = {**LISTED, "properties": {**LISTED["properties"], "topics": ["crime.terror", "sanction"]}}
    load(session, persons_list, listed)
    eid = enrol(client, officer, given_names="Yusuf", surnames="Hadad", nationality="SYR")
    screen_now(app)
    [alert] = alerts_of(session, eid)
    login(client, "supervisora")
    assert str(alert.id) in client.get("/alerts").text
    page = client.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    assert "<mark>Yusuf</mark>" in page.text and "Youssef Haddad" in page.text
    assert 'id="explanation"' in page.text and 'data-code="same_date">misma fecha<' in page.text  # in words
    assert 'data-code="crime.terror">Terrorismo<' in page.text and "Siria" in page.text  # topics, countries
    token = csrf_of(client, f"/alerts/{alert.id}")
    decided = client.post(f"/alerts/{alert.id}", data={"action": "dismiss", "reason": "", "csrf_token": token})
    assert decided.status_code == 422 and "reason" in decided.text.lower()
    done = client.post(f"/alerts/{alert.id}", data={"action": "dismiss", "reason": "another man", "csrf_token": token})
    assert done.status_code == 303
    assert alerts_of(session, eid)[0].state == "dismissed"
    assert "another man" in client.get(f"/alerts/{alert.id}").text


# -- yente-compatible matching -------------------------------------------------------------------------------------
def test_match_endpoint_speaks_yente(client, session, analysts, persons_list):
    load(session, persons_list, LISTED)
    body = {
        "queries": {
            "q1": {"schema": "Person", "properties": {"name": ["Yusuf Hadad"], "birthDate": ["1990-05-17"]}},
            "q2": {"schema": "Person", "properties": {"name": ["Nobody Here"]}},
        }
    }
    response = client.post(f"/match/{persons_list}?limit=3", json=body, headers=analysts[0])
    assert response.status_code == 200, response.text
    result = response.json()["responses"]["q1"]["results"][0]
    assert result["id"] == "ofac-1" and result["match"] is True and result["datasets"] == ["wanted"]
    assert set(result["explanations"]) >= {"name", "birth"} and 0 < result["score"] <= 1
    assert not any(r["match"] for r in response.json()["responses"]["q2"]["results"])
    query = {"queries": {"q": {"schema": "Person", "properties": {"birthDate": ["x"]}}}}
    bad = client.post(f"/match/{persons_list}", json=query, headers=analysts[0])
    assert bad.status_code == 422 and "birthDate" in bad.text
    reference = client.post(f"/match/{persons_list}?algorithm=logic-v2", json=body, headers=analysts[0])
    assert reference.json()["matcher"]["name"] == "logic-v2"
    assert client.post("/match/nope", json=body, headers=analysts[0]).status_code == 404
