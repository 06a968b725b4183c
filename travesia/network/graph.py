"""The network of links between persons: pure functions over plain tuples (no database).

A link is a shared *key*: a travelling group, a phone number, a document, a guide or payer named at interview, a
seized item. Persons who share a key are linked; expanding a person's network a hop at a time follows keys.
Community detection runs Leiden (igraph's C implementation) on the bipartite person–key graph, which grows with the
number of keys rather than with the square of a key's holders (a guide with 400 clients is 400 edges, not 80,000),
and flagging turns each community's facts into reasons an analyst can check. Flags point, never decide.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import igraph

from travesia.enrolment.rules import fold

LINK_KINDS = ("group", "phone", "document", "guide", "payer", "contact", "seizure")
ALGORITHM = "leiden-modularity-v1"
MAX_PER_KEY = 25
SPLIT_SIZE = 40  # persons: a larger connected group is cut into communities by Leiden
HUB_SIZE = 60  # keys held by more persons are left out of community detection (still shown around a person)
# Separate parties behind one key: (weight per doubling, cap). Most people crossing the Darién pay a guide, so a
# busy guide alone is ordinary; one payer or one phone behind many unrelated parties is how organised smuggling and
# debt bondage show in the records.
PARTY_WEIGHTS = {
    "guide": (0.5, 1.5),
    "contact": (0.75, 2.0),
    "phone": (1.0, 3.0),
    "payer": (1.0, 3.0),
}  # holders of one key shown around one person; the rest are counted, not drawn


def contact_key(name: str | None, phone: str | None, account: str | None) -> str:
    """What makes two interview records the same contact: the phone's digits (the last nine, which survive a
    country code written or not), else the account, else the folded name."""
    if phone:
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 5:
            return "tel:" + digits[-9:]
    if account:
        return "acct:" + re.sub(r"\s+", "", account).lower()
    if name and fold(name):
        return "name:" + " ".join(sorted(fold(name).split()))
    raise ValueError("a contact needs a name, a phone or an account")


@dataclass(frozen=True)
class Holding:
    """A person holds a key: ('phone', '+5841...') or ('group', group id); ``detail`` says how, for the page."""

    person: str
    kind: str
    key: str
    detail: str = ""


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    kind: str
    key: str
    detail: str = ""


@dataclass
class Neighbourhood:
    centre: str
    hops: dict[str, int]  # person → hop at which it was reached
    links: list[Link]
    hidden: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, key) → holders not drawn
    truncated: bool = False


def links_from(holdings: Iterable[Holding], frontier: set[str]) -> tuple[list[Link], dict[tuple[str, str], int]]:
    """Links from each frontier person to the other holders of their keys, at most MAX_PER_KEY per key."""
    by_key: dict[tuple[str, str], list[Holding]] = defaultdict(list)
    for holding in holdings:
        by_key[(holding.kind, holding.key)].append(holding)
    links, hidden = [], {}
    for (kind, key), holders in by_key.items():
        people = sorted({h.person for h in holders})
        inside = [p for p in people if p in frontier]
        others = [p for p in people if p not in frontier]
        if not inside or len(people) < 2:
            continue
        shown = others[:MAX_PER_KEY]
        if len(others) > MAX_PER_KEY:
            hidden[(kind, key)] = len(others) - MAX_PER_KEY
        detail = next((h.detail for h in holders if h.detail), "")
        anchor = inside[0]
        links.extend(Link(anchor, other, kind, key, detail) for other in shown)
        links.extend(Link(anchor, p, kind, key, detail) for p in inside[1:])
    return links, hidden


def expand(
    centre: str, hops: int, holdings_of: Callable[[set[str]], list[Holding]], max_persons: int = 150
) -> Neighbourhood:
    """Breadth-first, a hop at a time: each hop asks for the keys of the newly reached persons only."""
    reached = {centre: 0}
    frontier = {centre}
    found: dict[tuple[str, str, str], Link] = {}
    hidden: dict[tuple[str, str], int] = {}
    expanded: set[tuple[str, str]] = set()
    truncated = False
    for hop in range(1, hops + 1):
        if not frontier:
            break
        fresh = [h for h in holdings_of(frontier) if (h.kind, h.key) not in expanded]
        links, more = links_from(fresh, frontier)
        expanded.update((h.kind, h.key) for h in fresh)  # a key drawn at one hop is not drawn again from the next
        hidden.update(more)
        following: set[str] = set()
        for link in links:
            for person in (link.a, link.b):
                if person not in reached:
                    if len(reached) >= max_persons:
                        truncated = True
                        continue
                    reached[person] = hop
                    following.add(person)
            if link.a in reached and link.b in reached:
                a, b = sorted((link.a, link.b))
                found.setdefault((a, b, link.kind + link.key), Link(a, b, link.kind, link.key, link.detail))
        frontier = following
    return Neighbourhood(centre, reached, list(found.values()), hidden, truncated)


# -- community detection ---------------------------------------------------------------------------------------------
def communities(holdings: Iterable[Holding], seed: int = 7) -> list[list[str]]:
    """Communities of persons (two or more): the connected components of the person–key graph, and within a
    component too large to read (more than SPLIT_SIZE persons) the communities Leiden finds by modularity.

    Keys held by one person link nobody and are left out before the graph is built; so are hubs (a guide who took
    hundreds across), which would pull every one of their clients into one community and hide the structure. A
    small component is kept whole: modularity would cut a ring of six along its phone numbers."""
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for holding in holdings:
        holders[(holding.kind, holding.key)].add(holding.person)
    shared = [people for people in holders.values() if 1 < len(people) <= HUB_SIZE]
    index: dict[str, int] = {}
    for people in shared:
        for person in sorted(people):
            index.setdefault(person, len(index))
    persons = len(index)
    edges = [(index[p], persons + offset) for offset, people in enumerate(shared) for p in people]
    if not edges:
        return []
    graph = igraph.Graph(n=persons + len(shared), edges=edges)
    names = list(index)
    out = []
    for component in graph.connected_components():
        people = [v for v in component if v < persons]
        if len(people) <= SPLIT_SIZE:
            out.append(sorted(names[v] for v in people))
            continue
        sub = graph.induced_subgraph(component)
        random.seed(seed)  # igraph draws from Python's generator: seeding it makes runs repeatable
        partition = sub.community_leiden(objective_function="modularity", n_iterations=-1)
        for members in partition:
            part = sorted(names[component[v]] for v in members if component[v] < persons)
            if len(part) >= 2:
                out.append(part)
    return sorted(out, key=lambda c: (-len(c), c))


@dataclass(frozen=True)
class Facts:
    """What is known about a community's members, gathered by the repository for flagging."""

    holdings: list[Holding]
    alerts: Mapping[str, int]  # person → open or confirmed alerts
    children_alone: frozenset[str]  # unaccompanied or separated children
    groups: Mapping[str, frozenset[str]]  # person → the travelling groups they were registered in
    profiles: Mapping[str, tuple[object, object]] = field(default_factory=dict)  # person → (sex, birth year)

    @cached_property
    def by_person(self) -> dict[str, list[Holding]]:
        index: dict[str, list[Holding]] = defaultdict(list)
        for h in self.holdings:
            index[h.person].append(h)
        return index


@dataclass(frozen=True)
class Flag:
    score: float
    reasons: list[dict[str, object]]


def flag(members: list[str], facts: Facts) -> Flag:
    """Reasons a community deserves an analyst's look, each with its weight; the score is their sum.

    The weights are an analyst's rule of thumb, kept here in one place (PARTY_WEIGHTS and below): separate parties
    behind one payer or phone; a child travelling alone linked to an adult outside their family
    by a contact or phone is a trafficking indicator (IOM/UNODC); seizures, watchlist alerts and one document
    carried by several people speak for themselves."""
    inside = set(members)
    reasons: list[dict[str, object]] = []
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    for person in inside:
        for h in facts.by_person.get(person, ()):
            by_key[(h.kind, h.key)].add(person)
    for (kind, key), people in sorted(by_key.items()):
        if kind in PARTY_WEIGHTS and len(people) >= 2:
            parties = len({frozenset(facts.groups.get(p, frozenset())) or frozenset({p}) for p in people})
            if parties >= 3:
                per, cap = PARTY_WEIGHTS[kind]
                weight = round(min(cap, per * math.log2(parties - 1)), 2)
                reasons.append({"reason": "parties_share_" + kind, "key": key, "parties": parties, "weight": weight})
        # One document with several person records is usually one person registered twice (identity resolution's
        # work); it is a lead only when the holders differ in sex or by more than a year of birth (an estimated
        # year is often one off): the identity usurpation case.
        if kind == "document" and _different_people([facts.profiles.get(p) for p in people]):
            reasons.append({"reason": "document_shared", "key": key, "persons": len(people), "weight": 2.0})
        if kind == "seizure":
            reasons.append({"reason": "seizure", "key": key, "persons": len(people), "weight": 2.0})
    for child in sorted(facts.children_alone & inside):
        family = facts.groups.get(child, frozenset())
        linked = {
            other
            for (kind, _), people in by_key.items()
            if kind in ("guide", "payer", "phone", "contact") and child in people
            for other in people
            if other != child and not (facts.groups.get(other, frozenset()) & family)
        }
        if linked:
            reasons.append({"reason": "child_alone_linked_to_adults", "persons": len(linked), "weight": 3.0})
    alerted = sum(1 for p in inside if facts.alerts.get(p))
    if alerted:
        reasons.append({"reason": "alerts", "persons": alerted, "weight": 1.5 * alerted})
    return Flag(round(sum(float(r["weight"]) for r in reasons), 2), reasons)  # type: ignore[arg-type]


def _different_people(profiles: list[tuple[object, object] | None]) -> bool:
    known = [p for p in profiles if p is not None]
    return any(
        a[0] != b[0] or not isinstance(a[1], int) or not isinstance(b[1], int) or abs(a[1] - b[1]) > 1
        for i, a in enumerate(known)
        for b in known[i + 1 :]
    )


# -- drawing ---------------------------------------------------------------------------------------------------------
def layout(hood: Neighbourhood, width: int = 760, height: int = 520, seed: int = 3) -> dict[str, tuple[float, float]]:
    """Positions for the page's SVG: Fruchterman–Reingold, the centre pinned in the middle, repeatable."""
    names = list(hood.hops)
    index = {n: i for i, n in enumerate(names)}
    graph = igraph.Graph(n=len(names), edges=[(index[link.a], index[link.b]) for link in hood.links])
    graph.simplify()
    if len(names) == 1:
        return {names[0]: (width / 2, height / 2)}
    random.seed(seed)
    coords = graph.layout_fruchterman_reingold(niter=500).coords
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    cx, cy = coords[index[hood.centre]]
    span = max(max(abs(x - cx) for x in xs), max(abs(y - cy) for y in ys), 1e-9)
    margin = 70  # room for the name written under each node
    return {
        name: (
            round(width / 2 + (coords[i][0] - cx) / span * (width / 2 - margin), 1),
            round(height / 2 + (coords[i][1] - cy) / span * (height / 2 - margin), 1),
        )
        for i, name in enumerate(names)
    }
