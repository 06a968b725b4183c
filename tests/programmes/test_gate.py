"""The non-refoulement gate: nobody protected is placed on a repatriation manifest through any path, families are
never split, boarding checks again, and every refusal and placement is in the audit trail."""

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from travesia.core.principal import cli_principal
from travesia.identity import service as identity
from travesia.models import AuditEvent, ManifestEntry, ProtectionFlag
from travesia.programmes import service as programmes
from travesia.programmes.schemas import PlaceIn


def place(client, headers, flight, person, **extra):
    return client.post(f"/api/v1/flights/{flight}/manifest", json={"person_id": str(person), **extra}, headers=headers)


def on_manifest(session, flight):
    session.expire_all()
    stmt = select(ManifestEntry.person_id, ManifestEntry.state).where(ManifestEntry.flight_id == uuid.UUID(flight))
    return dict(session.execute(stmt).all())


def refusals(session, person):
    session.expire_all()
    stmt = select(AuditEvent).where(
        AuditEvent.action.in_(("programmes.place", "programmes.board")),
        AuditEvent.outcome == "refused",
        AuditEvent.record_id == str(person),
    )
    return session.execute(stmt).scalars().all()


def test_derived_flags_come_from_registration(session, people):
    session.expire_all()
    flags = {(f.person_id, f.kind, f.source) for f in session.execute(select(ProtectionFlag)).scalars()}
    assert flags == {(people["child_alone"], "unaccompanied_child", "derived")}


# every kind of protection, each recorded through its own endpoint
WG = {"seeing": "no_difficulty", "hearing": "no_difficulty", "walking": "cannot_do", "cognition": "no_difficulty",
      "self_care": "no_difficulty", "communication": "no_difficulty"}  # fmt: skip


def intention(client, h, p):
    return client.post(f"/api/v1/persons/{p}/asylum-intention", json={}, headers=h)


def pending(client, h, p):
    claim = intention(client, h, p).json()["id"]
    return client.post(
        f"/api/v1/protection/claims/{claim}", json={"state": "pending", "on": date.today().isoformat()}, headers=h
    )


def granted(client, h, p):
    claim = pending(client, h, p).json()["id"]
    return client.post(
        f"/api/v1/protection/claims/{claim}", json={"state": "granted", "on": date.today().isoformat()}, headers=h
    )


def appeal(client, h, p):
    claim = pending(client, h, p).json()["id"]
    today = date.today().isoformat()
    client.post(f"/api/v1/protection/claims/{claim}", json={"state": "refused", "on": today}, headers=h)
    return client.post(f"/api/v1/protection/claims/{claim}", json={"state": "appeal", "on": today}, headers=h)


def trafficking_referral(client, h, p):
    body = {"kind": "trafficking", "partner": "IOM Panamá", "consent": "given"}
    return client.post(f"/api/v1/persons/{p}/referrals", json=body, headers=h)


def protection_case(client, h, p):
    return client.post(f"/api/v1/persons/{p}/cases", json={"kind": "gender_based_violence"}, headers=h)


def disability(client, h, p):
    return client.post(f"/api/v1/persons/{p}/flags", json={"kind": "disability", "washington_group": WG}, headers=h)


def pregnancy(client, h, p):
    return client.post(f"/api/v1/persons/{p}/flags", json={"kind": "pregnancy"}, headers=h)


def screening_refer(client, h, p):
    return client.post(
        f"/api/v1/persons/{p}/trafficking-screenings", json={"answers": {"movement_restricted": True}}, headers=h
    )


PROTECTIONS = [
    intention,
    pending,
    granted,
    appeal,
    trafficking_referral,
    protection_case,
    disability,
    pregnancy,
    screening_refer,
]


@pytest.mark.parametrize("protect", PROTECTIONS, ids=lambda f: f.__name__)
def test_every_protection_refuses_every_path(
    client, session, people, flight, protection_officer, programme_officer, protect
):
    person = people["single"]
    made = protect(client, protection_officer, person)
    assert made.status_code in (200, 201), made.text
    held = client.get(f"/api/v1/persons/{person}/holds", headers=protection_officer).json()["holds"]
    assert held, "the protection recorded no hold"
    # the page's and the API's path
    refused = place(client, programme_officer, flight, person)
    assert refused.status_code == 409 and refused.json()["refused"][str(person)] == held
    # bulk, mixed with an eligible person: the protected one is refused, the other placed
    bulk = client.post(
        f"/api/v1/flights/{flight}/manifest/bulk",
        json={"persons": [{"person_id": str(person)}, {"person_id": str(people["other"])}]},
        headers=programme_officer,
    ).json()
    assert bulk["placed"] == [str(people["other"])] and str(person) in bulk["refused"]
    # a re-processing job calling the service directly
    again = programmes.place(session, cli_principal("batch"), uuid.UUID(flight), PlaceIn(person_id=person))
    assert again.placed == [] and again.refused[str(person)] == held
    assert person not in on_manifest(session, flight)
    assert len(refusals(session, person)) == 3  # every refusal audited, committed with its reasons


def test_a_derived_flag_holds_too(client, people, flight, programme_officer):
    refused = place(client, programme_officer, flight, people["child_alone"])
    assert refused.status_code == 409 and refused.json()["refused"][str(people["child_alone"])] == [
        "flag:unaccompanied_child"
    ]


def test_families_travel_together_or_not_at_all(client, session, people, flight, protection_officer, programme_officer):
    placed = place(client, programme_officer, flight, people["son"], medically_fit=True)
    assert placed.status_code == 201, placed.text
    family = {people["father"], people["mother"], people["son"]}
    assert set(on_manifest(session, flight)) == family
    # removing one removes all
    removed = client.post(
        f"/api/v1/flights/{flight}/manifest/{people['mother']}/remove",
        json={"reason": "re-planned"},
        headers=programme_officer,
    ).json()
    assert set(map(uuid.UUID, removed["removed"])) == family
    # a protected member keeps the whole family off
    assert pregnancy(client, protection_officer, people["mother"]).status_code == 201
    refused = place(client, programme_officer, flight, people["father"]).json()["refused"]
    assert refused[str(people["mother"])] == ["flag:pregnancy"]
    assert refused[str(people["father"])] == refused[str(people["son"])] == ["family_member_held:1"]
    assert {s for s in on_manifest(session, flight).values()} == {"removed"}


def test_capacity_counts_the_whole_family(client, session, people, programme_officer):
    body = {"kind": "repatriation", "departs_on": date.today().isoformat(), "destination": "VEN", "capacity": 2,
            "operator": "x"}  # fmt: skip
    small = client.post("/api/v1/flights", json=body, headers=programme_officer).json()["id"]
    refused = place(client, programme_officer, small, people["father"])
    assert refused.status_code == 409 and "no_seats" in refused.json()["refused"][str(people["father"])]


def test_boarding_checks_again(client, session, people, flight, protection_officer, programme_officer):
    person = people["single"]
    assert place(client, programme_officer, flight, person).status_code == 201
    not_fit = client.post(f"/api/v1/flights/{flight}/manifest/{person}/board", headers=programme_officer)
    assert not_fit.status_code == 409 and "medical_fitness_not_confirmed" in not_fit.json()["held"][str(person)]
    fit = client.post(
        f"/api/v1/flights/{flight}/manifest/{person}/fitness", json={"medically_fit": True}, headers=programme_officer
    )
    assert fit.status_code == 200
    # at the door, the person asks for asylum: recorded by whoever is there, and the gate holds them
    assert intention(client, programme_officer, person).status_code == 201
    held = client.post(f"/api/v1/flights/{flight}/manifest/{person}/board", headers=programme_officer)
    assert held.status_code == 409 and held.json()["held"][str(person)] == ["claim:intention"]
    assert on_manifest(session, flight)[person] == "held"
    assert refusals(session, person)


def test_a_merge_with_a_protected_record_is_caught_at_boarding(
    client, session, people, flight, protection_officer, programme_officer
):
    person, protected = people["single"], people["other"]
    assert place(client, programme_officer, flight, person, medically_fit=True).status_code == 201
    assert pregnancy(client, protection_officer, protected).status_code == 201
    identity.merge(session, cli_principal("analyst"), protected, person, "same person, two registrations")
    session.commit()
    held = client.post(f"/api/v1/flights/{flight}/manifest/{person}/board", headers=programme_officer)
    assert held.status_code == 409 and held.json()["held"][str(person)] == ["flag:pregnancy"]


def test_boarding_a_clear_family(client, session, people, flight, programme_officer):
    for who in ("father", "mother", "son"):
        if who == "father":
            assert place(client, programme_officer, flight, people[who], medically_fit=True).status_code == 201
        else:
            client.post(f"/api/v1/flights/{flight}/manifest/{people[who]}/fitness", json={"medically_fit": True},
                        headers=programme_officer)  # fmt: skip
    boarded = client.post(f"/api/v1/flights/{flight}/manifest/{people['son']}/board", headers=programme_officer)
    assert boarded.status_code == 200 and len(boarded.json()["boarded"]) == 3
    assert set(on_manifest(session, flight).values()) == {"boarded"}


def test_only_the_programme_officer_places_and_the_gate_tells_codes_not_stories(
    client, people, flight, officer, programme_officer
):
    assert place(client, officer, flight, people["single"]).status_code == 403
    assert client.get(f"/api/v1/persons/{people['single']}/holds", headers=programme_officer).status_code == 403
