"""The analysts' identity proposals at volume: 1,200 proposals listed strongest first on pages of 50 with counts per
state, filtered by where they were found and when, each row naming both persons; one proposal accepted from its page
with a reason (and refused without one), its persons' reads findable under their ids."""

from datetime import timedelta

from sqlalchemy import insert, select

from tests.biometrics.test_pipeline import enrol
from tests.conftest import csrf_of, login
from tests.pages import walk as walk_pages
from travesia.core.db import utcnow
from travesia.core.principal import Role
from travesia.models import AuditEvent, Encounter, IdentityDecision

PROPOSALS = 1200


ROW = r'<tr data-decision="(\d+)">'


def walk(client, url: str) -> tuple[list[int], int]:
    ids, pages = walk_pages(client, url, ROW)
    return [int(i) for i in ids], pages


def test_proposals_are_listed_paged_filtered_and_decided_on_their_page(client, session, officer, make_user):
    people = [enrol(client, officer, given_names=f"Ana {n}", surnames="Mora") for n in range(6)]
    persons = [session.get(Encounter, e).person_id for e in people]
    now = utcnow()
    session.execute(insert(IdentityDecision), [
        {"kind": "merge", "state": "proposed", "source": "batch" if n % 3 else "online",
         "person_id": persons[n % 3], "from_person_id": persons[3 + n % 3], "score": round(0.5 + (n % 97) / 200, 4),
         "evidence": [{"feature": "name", "level": "exact", "bits": 6.0}], "moves": [], "encounter_ids": [],
         "reason": "", "created_at": now - timedelta(hours=n)}
        for n in range(PROPOSALS)
    ])  # fmt: skip
    session.commit()
    make_user("supervisora.ident", Role.SUPERVISOR)  # decides identities, signs in without a second factor here
    session.commit()
    login(client, "supervisora.ident")

    first = client.get("/identity/proposals")
    assert first.status_code == 200 and f"Por decidir ({PROPOSALS})" in first.text
    assert "Ana 3 Mora" in first.text and "Ana 0 Mora" in first.text  # both persons named
    ids, pages = walk(client, "/identity/proposals")
    assert len(ids) == PROPOSALS == len(set(ids)) and pages == PROPOSALS // 50
    scores = {d.id: d.score for d in session.execute(select(IdentityDecision)).scalars()}
    assert [scores[i] for i in ids] == sorted(scores.values(), reverse=True)  # strongest first, across pages
    online, _ = walk(client, "/identity/proposals?source=online")
    assert len(online) == PROPOSALS // 3
    recent, _ = walk(client, f"/identity/proposals?since={(now - timedelta(hours=47)).date()}&sort=age")
    assert 0 < len(recent) < PROPOSALS and recent == sorted(recent)
    assert client.get("/identity/proposals?after=nonsense").status_code == 422

    chosen = ids[0]
    page = client.get(f"/identity/proposals/{chosen}")
    assert page.status_code == 200 and "Ana" in page.text and 'id="explanation"' in page.text
    token = csrf_of(client, f"/identity/proposals/{chosen}")
    refused = client.post(f"/identity/proposals/{chosen}", data={"action": "accept", "reason": "", "csrf_token": token})
    assert refused.status_code == 422
    done = client.post(f"/identity/proposals/{chosen}",
                       data={"action": "accept", "reason": "mismo pasaporte", "csrf_token": token})  # fmt: skip
    assert done.status_code == 303
    session.expire_all()
    decision = session.get(IdentityDecision, chosen)
    assert decision.state == "accepted"
    assert "Aceptadas (1)" in client.get("/identity/proposals").text
    reads = (
        session.execute(
            select(AuditEvent.record_id).where(AuditEvent.action == "person.read", AuditEvent.purpose.like("identity%"))
        )
        .scalars()
        .all()
    )
    assert {str(decision.person_id), str(decision.from_person_id)} <= set(reads)
