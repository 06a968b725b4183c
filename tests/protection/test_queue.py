"""The protection queue at a day's volume: 1,500 open cases and 300 people flagged with no case yet, filtered and
paged on the server (by the next follow-up due, then the oldest), counts per view, "my cases" by default for an
officer who holds any, overdue follow-ups on their own."""

import uuid
from datetime import timedelta

from sqlalchemy import insert, select

from tests.conftest import login
from tests.pages import walk as walk_pages
from travesia.core.db import utcnow
from travesia.core.principal import Role
from travesia.models import FollowUp, Person, ProtectionCase, ProtectionFlag, User

CASES, INTAKE = 1500, 300


def walk(client, url: str) -> tuple[list[str], int]:
    return walk_pages(client, url, r'<tr data-person="([0-9a-f-]{36})">')


def test_the_protection_queue_at_volume(client, session, make_user):
    officer = make_user("proteccion.cola", Role.PROTECTION_OFFICER)
    session.commit()
    me = session.execute(select(User.id).where(User.username == "proteccion.cola")).scalar_one()
    now, today = utcnow(), utcnow().date()
    persons = [{"id": uuid.uuid4()} for _ in range(CASES + INTAKE)]
    session.execute(insert(Person), persons)
    cases = [
        {"id": uuid.uuid4(), "person_id": persons[n]["id"], "kind": ("general", "medical")[n % 2], "state": "open",
         "assigned_to_id": me if n % 10 == 0 else None, "opened_at": now - timedelta(hours=n)}
        for n in range(CASES)
    ]  # fmt: skip
    session.execute(insert(ProtectionCase), cases)
    session.execute(insert(FollowUp), [
        {"id": uuid.uuid4(), "case_id": c["id"], "due_on": today + timedelta(days=(n % 30) - 5), "what": "visita"}
        for n, c in enumerate(cases) if n % 3
    ])  # fmt: skip
    session.execute(insert(ProtectionFlag), [
        {"id": uuid.uuid4(), "person_id": persons[CASES + n]["id"], "kind": ("pregnancy", "disability")[n % 2],
         "source": "recorded", "details": {}, "recorded_at": now - timedelta(minutes=n)}
        for n in range(INTAKE)
    ])  # fmt: skip
    session.commit()
    login(client, officer.username)

    first = client.get("/protection")
    assert first.status_code == 200
    assert f"Mis casos ({CASES // 10})" in first.text and f"Todos los casos abiertos ({CASES})" in first.text
    assert f"Sin caso todavía ({INTAKE})" in first.text
    mine, _ = walk(client, "/protection")  # the default: the officer holds cases
    assert len(mine) == CASES // 10
    every, pages = walk(client, "/protection?view=all")
    assert len(every) == CASES == len(set(every)) and pages == CASES // 50
    due = {c.person_id: None for c in session.execute(select(ProtectionCase)).scalars()}
    for f in session.execute(select(FollowUp, ProtectionCase.person_id).join(ProtectionCase)).all():
        due[f[1]] = f[0].due_on
    keys = [due[uuid.UUID(p)] or today + timedelta(days=9999) for p in every]
    assert keys == sorted(keys)  # the next follow-up due first, none planned last, across pages
    overdue, _ = walk(client, "/protection?view=all&overdue=true")
    assert overdue and all(due[uuid.UUID(p)] < today for p in overdue)
    medical, _ = walk(client, "/protection?view=all&kind=medical")
    assert len(medical) == CASES // 2
    intake, _ = walk(client, "/protection?view=intake")
    assert len(intake) == INTAKE == len(set(intake))
    pregnant, _ = walk(client, "/protection?view=intake&flag=pregnancy")
    assert len(pregnant) == INTAKE // 2
    assert client.get("/protection?after=nonsense").status_code == 422
