"""Network intelligence on the database: contacts and inspections recorded with validation, a person's network a
hop at a time (following merges), community detection that flags the planted rings and not the busy guides."""

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import csrf_of, import_population, login, token_for
from tests.pages import walk
from travesia.core.principal import Role, cli_principal
from travesia.enrolment.bulk import run_import
from travesia.identity import service as identity
from travesia.models import AuditEvent, Encounter, NetworkCluster
from travesia.network import service
from travesia.synth import network as synth_network

OPERATOR = cli_principal("test")


@pytest.fixture
def analyst(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "analista.red", Role.ANALYST)


@pytest.fixture
def registrar(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "oficial.red", Role.REGISTRATION_OFFICER)


@pytest.fixture
def population(db, tmp_path):
    bodies, rows = import_population(db, tmp_path, 400, seed=5)
    # two children travelling alone (the synthetic flow has about one in 300 parties)
    alone = tmp_path / "alone.jsonl"
    alone.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": str(uuid.uuid4()),
                    "station": "BAJO-CHIQUITO",
                    "occurred_at": f"2023-08-0{day}T09:00:00+00:00",
                    "given_names": name,
                    "surnames": "Solo",
                    "sex": "F",
                    "birth_date": f"2009-02-0{day}",
                    "nationality": "ECU",
                }
            )
            for day, name in ((1, "Ana"), (2, "Eva"))
        ),
        encoding="utf-8",
    )
    assert run_import(db, OPERATOR, alone)[0].rejected == 0
    with db.transaction() as session:
        planted = synth_network.plant(session, OPERATOR, seed=5, rings=2)
    return bodies, rows, planted


def first_encounters(session, n):
    return list(session.execute(select(Encounter).order_by(Encounter.occurred_at).limit(n)).scalars())


def test_contacts_are_validated_and_keyed(client, session, population, registrar, analyst):
    [e] = first_encounters(session, 1)
    url = f"/api/v1/encounters/{e.id}/contacts"
    empty = client.post(url, json={"kind": "guide"}, headers=registrar)
    assert empty.status_code == 422 and "el nombre, el teléfono o la cuenta" in empty.text
    bad_kind = client.post(url, json={"kind": "boss", "name": "X"}, headers=registrar)
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text
    bad_phone = client.post(url, json={"kind": "guide", "phone": "call me"}, headers=registrar)
    assert bad_phone.status_code == 422 and "phone" in bad_phone.text
    contact = {"kind": "guide", "phone": "+507 6000-1111", "name": "El Flaco"}
    # a registration officer records at their own stations only; this registration is elsewhere
    assert client.post(url, json=contact, headers=registrar).status_code == 404
    made = client.post(url, json=contact, headers=analyst)
    assert made.status_code == 201, made.text
    assert made.json()["key"] == "tel:760001111" and made.json()["phone"] == "+50760001111"
    missing = client.post(f"/api/v1/encounters/{uuid.uuid4()}/contacts", json=contact, headers=analyst)
    assert missing.status_code == 404
    # reading the network is the analyst's, not the registration officer's
    assert client.get(f"/api/v1/network/persons/{e.person_id}", headers=registrar).status_code == 403


def test_inspections_are_validated_field_by_field(client, session, population, analyst):
    a, b = first_encounters(session, 2)
    base = {
        "station": "ERM-LAJAS-BLANCAS",
        "occurred_at": datetime(2024, 3, 1, 10, tzinfo=UTC).isoformat(),
        "method": "x_ray",
        "result": "seizure",
        "subjects": [{"encounter_id": str(a.id), "role": "carrier"}, {"encounter_id": str(b.id), "role": "owner"}],
        "seizures": [
            {"kind": "cash", "description": "undeclared", "quantity": 12000, "unit": "USD", "item_ref": "bag-7"}
        ],
    }
    cases = [
        ({"seizures": []}, "indica lo incautado"),
        ({"result": "clear"}, "solo cuando el resultado es «incautación»"),
        ({"station": "NOWHERE"}, "station"),
        ({"occurred_at": "2024-03-01T10:00:00"}, "zona horaria"),
        ({"subjects": [{"encounter_id": str(uuid.uuid4()), "role": "carrier"}]}, '"subjects",0,"encounter_id"'),
        ({"seizures": [{"kind": "drugs", "description": "x", "quantity": 2}]}, "cantidad junto con su unidad"),
        ({"method": "telepathy"}, "method"),
    ]
    for change, expected in cases:
        response = client.post("/api/v1/inspections", json={**base, **change}, headers=analyst)
        assert response.status_code in (404, 422) and expected in response.text, (change, response.text)
    made = client.post("/api/v1/inspections", json=base, headers=analyst)
    assert made.status_code == 201, made.text
    body = made.json()
    assert {s["role"] for s in body["subjects"]} == {"carrier", "owner"} and body["seizures"][0]["item_ref"] == "bag-7"
    again = client.get(f"/api/v1/inspections/{body['id']}", headers=analyst).json()
    assert again == body
    # the two are now linked by the seizure
    net = client.get(f"/api/v1/network/persons/{a.person_id}", headers=analyst).json()
    assert any(link["kind"] == "seizure" and str(b.person_id) in (link["a"], link["b"]) for link in net["links"])


def test_the_network_expands_a_hop_at_a_time_and_follows_merges(client, session, population, analyst):
    _, _, planted = population
    ring = sorted(planted.rings[0])
    one = client.get(f"/api/v1/network/persons/{ring[0]}?hops=1", headers=analyst).json()
    two = client.get(f"/api/v1/network/persons/{ring[0]}?hops=2", headers=analyst).json()
    assert {n["person_id"] for n in one["nodes"]} <= {n["person_id"] for n in two["nodes"]}
    assert len(two["nodes"]) >= len(one["nodes"]) > 1
    assert all(n["hop"] <= 1 for n in one["nodes"]) and max(n["hop"] for n in two["nodes"]) <= 2
    node_ids = {n["person_id"] for n in two["nodes"]}
    assert all(link["a"] in node_ids and link["b"] in node_ids for link in two["links"])
    assert client.get(f"/api/v1/network/persons/{ring[0]}?hops=4", headers=analyst).status_code == 422
    reads = session.execute(select(AuditEvent).where(AuditEvent.action == "network.read")).scalars().all()
    assert len(reads) >= 2

    # merge the centre into someone else: the old id now opens the merged person's network
    other = first_encounters(session, 1)[0].person_id
    decision = identity.merge(session, OPERATOR, uuid.UUID(ring[0]), other, "same person")
    session.commit()
    moved = client.get(f"/api/v1/network/persons/{ring[0]}", headers=analyst).json()
    assert moved["centre"] == str(decision.person_id)


def test_detection_flags_the_planted_rings_and_not_the_busy_guides(client, session, population, analyst):
    _, _, planted = population
    out = client.post("/api/v1/network/clusters/detect", headers=analyst).json()
    assert out["flagged"] >= len(planted.rings)
    flagged = client.get("/api/v1/network/clusters", headers=analyst).json()
    assert len(planted.rings) == 2 and all(planted.children)
    for ring, child in zip(planted.rings, planted.children, strict=True):
        best = max(flagged, key=lambda c: len(ring & set(c["person_ids"])))
        assert ring <= set(best["person_ids"]), "a planted ring is split or missed"
        reasons = {r["reason"] for r in best["reasons"]}
        assert {"parties_share_payer", "seizure"} <= reasons
        assert ("child_alone_linked_to_adults" in reasons) == bool(child)
    planted_people = set().union(*planted.rings)
    false_flags = [c for c in flagged if not planted_people & set(c["person_ids"])]
    assert len(false_flags) <= 1, [c["reasons"] for c in false_flags]

    # a second run replaces the open flags; a reviewed flag stays reviewed
    first = flagged[0]["id"]
    no_note = client.post(f"/api/v1/network/clusters/{first}/review", json={"note": ""}, headers=analyst)
    assert no_note.status_code == 422
    done = client.post(
        f"/api/v1/network/clusters/{first}/review", json={"note": "known smuggling ring"}, headers=analyst
    )
    assert done.status_code == 200 and done.json()["state"] == "reviewed"
    again = client.post(f"/api/v1/network/clusters/{first}/review", json={"note": "again"}, headers=analyst)
    assert again.status_code == 409
    second = client.post("/api/v1/network/clusters/detect", headers=analyst).json()
    assert second["superseded"] == out["flagged"] - 1
    states = dict(session.execute(select(NetworkCluster.id, NetworkCluster.state)).all())
    assert states[first] == "reviewed"


def test_a_detection_run_flags_at_least_the_planted_rings(db, population):
    """The use case `travesia network detect` runs (the command itself is a thin wrapper over it)."""
    with db.transaction() as session:
        out = service.detect(session, OPERATOR)
    assert out.communities > out.flagged >= 2


def test_the_analyst_pages(client, session, make_user, population):
    _, _, planted = population
    make_user("supervisora", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora")
    centre = sorted(planted.rings[0])[0]
    page = client.get(f"/network/persons/{centre}")
    assert page.status_code == 200
    assert page.text.count("<circle") >= 3 and 'class="link-payer"' in page.text
    assert f'href="/network/persons/{centre}?hops=2"' in page.text
    assert client.get(f"/network/persons/{centre}?hops=2").status_code == 200

    token = csrf_of(client, "/network/clusters")
    assert client.post("/network/clusters/detect", data={"csrf_token": token}).status_code == 303
    clusters = client.get("/network/clusters").text
    [first] = re.findall(r'id="cluster-(\d+)"', clusters)[:1]
    empty = client.post(f"/network/clusters/{first}", data={"note": "", "csrf_token": token})
    assert empty.status_code == 422 and f'id="err-{first}"' in empty.text
    done = client.post(f"/network/clusters/{first}", data={"note": "seen", "csrf_token": token})
    assert done.status_code == 303
    assert f'id="cluster-{first}"' not in client.get("/network/clusters").text
    reviewed = client.get("/network/clusters?state=reviewed").text
    assert f'id="cluster-{first}"' in reviewed and "seen" in reviewed  # the reviewed tab keeps the finding


def test_flagged_networks_are_paged_strongest_first(client, session, make_user):
    from sqlalchemy import insert, select

    from travesia.models import NetworkCluster

    session.execute(insert(NetworkCluster), [
        {"algorithm": "louvain", "size": 2 + n % 30, "score": round(1 + (n % 53) / 7, 3), "reasons": [],
         "person_ids": [], "state": "open"}
        for n in range(450)
    ])  # fmt: skip
    make_user("supervisora.redes", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora.redes")
    found, _ = walk(client, "/network/clusters", r'<section class="card" id="cluster-(\d+)"')
    ids = [int(n) for n in found]
    assert len(ids) == 450 == len(set(ids))
    scores = {c.id: c.score for c in session.execute(select(NetworkCluster)).scalars()}
    assert [scores[i] for i in ids] == sorted(scores.values(), reverse=True)
    big = client.get("/network/clusters?min_size=30").text
    assert "Por revisar (30)" in big  # 2 + n % 30 ≥ 30: n % 30 is 28 or 29, 15 times each
    assert client.get("/network/clusters?min_size=1").status_code == 422
