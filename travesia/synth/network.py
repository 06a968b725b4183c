"""Synthetic network facts over registrations already stored: guides and payers named at interview, and
border-point inspections, with planted smuggling rings as ground truth (for the demo, the tests and the flags).

Background: most parties name one of a few busy guides (ordinary in the Darién), some pay a relative (a payer of
one party). A planted ring is one payer behind several unrelated parties, one of them a child travelling alone
when the population has one, and an inspection that seized drugs from two of its members. Everything goes
through the network service, so the same validation and audit apply as for an officer's entry.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from travesia.core.principal import Principal
from travesia.models import Encounter, Station
from travesia.network import service
from travesia.network.schemas import ContactIn, InspectionIn, SeizureIn, SubjectIn

GUIDES = 12


@dataclass(frozen=True)
class Planted:
    rings: list[set[str]]  # person ids of each planted ring
    children: list[str | None]  # the child travelling alone in each ring, when the population had one to spare
    contacts: int
    inspections: int


def _parties(session: Session, limit: int) -> list[list[Encounter]]:
    """First registrations grouped into parties (a travelling group, or one person alone)."""
    rows = session.execute(select(Encounter).order_by(Encounter.occurred_at, Encounter.id).limit(limit)).scalars()
    parties: dict[str, list[Encounter]] = {}
    seen: set[uuid.UUID] = set()
    for e in rows:
        if e.person_id in seen:
            continue
        seen.add(e.person_id)
        parties.setdefault(str(e.group_id or e.id), []).append(e)
    return list(parties.values())


def _adult(e: Encounter) -> bool:
    return e.occurred_at.year - e.birth_year >= 18


def plant(session: Session, principal: Principal, *, seed: int = 11, rings: int = 3, limit: int = 20_000) -> Planted:
    r = random.Random(seed)
    parties = _parties(session, limit)
    alone_children = [p for p in parties if len(p) == 1 and not _adult(p[0])]
    others = [p for p in parties if not (len(p) == 1 and not _adult(p[0]))]
    r.shuffle(others)
    border = session.execute(select(Station).order_by(Station.code)).scalars().first()
    contacts = inspections = 0
    planted: list[set[str]] = []
    children: list[str | None] = []
    for ring in range(rings):
        if len(others) < 10:
            break
        child = alone_children.pop() if alone_children else []
        members = [others.pop() for _ in range(r.randrange(4, 7))] + ([child] if child else [])
        children.append(str(child[0].person_id) if child else None)
        account = f"wallet-{seed}-{ring}-{r.randrange(10**6):06d}"
        for party in members:
            head = party[0]
            amount = float(r.randrange(800, 5000, 50))
            service.record_contact(
                session, principal, head.id, ContactIn(kind="payer", account=account, amount_usd=amount)
            )
            contacts += 1
        carriers = [members[0][0], members[1][0]]
        when = max(c.occurred_at for c in carriers) + timedelta(days=1)
        service.record_inspection(
            session,
            principal,
            InspectionIn(
                station=border.code if border else "",
                occurred_at=when,
                method="x_ray",
                result="seizure",
                conveyance=f"bus {r.randrange(100, 999)}",
                route_countries=["COL"],
                subjects=[SubjectIn(encounter_id=c.id, role="carrier") for c in carriers],
                seizures=[SeizureIn(kind="drugs", description="cocaine in luggage lining", quantity=2.5, unit="kg",
                                    item_ref=f"lot-{seed}-{ring}")],
            ),
        )  # fmt: skip
        inspections += 1
        planted.append({str(e.person_id) for party in members for e in party})
    guides = [f"+5076{r.randrange(10**6, 10**7)}" for _ in range(GUIDES)]
    for party in others:
        head = party[0]
        if r.random() < 0.6:
            service.record_contact(session, principal, head.id, ContactIn(kind="guide", phone=r.choice(guides)))
            contacts += 1
        if r.random() < 0.1:  # a relative pays for their own party only
            payer = ContactIn(kind="payer", account=f"family-{r.randrange(10**9)}", amount_usd=1500.0)
            service.record_contact(session, principal, head.id, payer)
            contacts += 1
    return Planted(planted, children, contacts, inspections)
