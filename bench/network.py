"""Network intelligence at scale: community detection and flags over a synthetic Darién population with planted
smuggling rings, against networkx (the pure-Python reference library) doing the same computation in the same run.

    python bench/network.py --persons 1000000            # ~1M persons; --skip-networkx to leave the baseline out
    python bench/network.py --persons 50000              # a quick look

The holdings are made in memory the way the records make them (travesia.synth.network plants the same shapes in a
database): parties of one to six (families and travelling groups share a group key), a guide for 60 % of parties
from a pool of busy guides (hubs), a relative paying for 10 % of parties, a shared phone inside 20 % of parties, and
a reused SIM between two unrelated persons for 0.5 % of persons (innocent coincidences). Each planted ring is one
payer behind four to six unrelated parties plus a child alone, and one seizure from two of its members.

Printed: time and peak memory of detection and flagging, the share of rings whose every member is in one flagged
community (recall), flagged communities holding no ring member (false flags), and the share of a ring's flagged
community that is the ring or its parties (purity). Detection never decides: these are the leads an analyst sees.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from travesia.network import graph
from travesia.network.graph import Facts, Holding


def population(persons: int, rings: int, seed: int) -> tuple[list[Holding], list[set[str]], Facts]:
    r = random.Random(seed)
    holdings: list[Holding] = []
    groups: dict[str, frozenset[str]] = {}
    children: set[str] = set()
    guides = [f"tel:g{i}" for i in range(max(20, persons // 3000))]
    made = 0
    party_heads: list[list[str]] = []
    while made < persons:
        size = r.choice([1, 1, 1, 2, 3, 4, 5, 6])
        party = [f"p{made + i}" for i in range(size)]
        made += size
        if size > 1:
            gid = f"g{made}"
            for p in party:
                holdings.append(Holding(p, "group", gid))
                groups[p] = frozenset({gid})
            if r.random() < 0.2:
                holdings.extend(Holding(p, "phone", f"tel:party{made}") for p in party[:2])
        if r.random() < 0.6:
            holdings.append(Holding(party[0], "guide", r.choice(guides)))
        if r.random() < 0.1:
            holdings.append(Holding(party[0], "payer", f"acct:family{made}"))
        party_heads.append(party)
    everyone = [f"p{i}" for i in range(made)]
    for i in range(int(made * 0.005)):
        a, b = r.sample(everyone, 2)
        holdings.extend([Holding(a, "phone", f"tel:sim{i}"), Holding(b, "phone", f"tel:sim{i}")])
    planted = []
    r.shuffle(party_heads)
    for ring in range(rings):
        parties = [party_heads.pop() for _ in range(r.randrange(4, 7))]
        child = f"child{ring}"
        children.add(child)
        members = [p for party in parties for p in party] + [child]
        heads = [party[0] for party in parties] + [child]
        holdings.extend(Holding(h, "payer", f"acct:ring{ring}") for h in heads)
        holdings.extend(Holding(h, "seizure", f"inspection:ring{ring}") for h in heads[:2])
        planted.append(set(members))
    facts = Facts(holdings, {}, frozenset(children), groups)
    return holdings, planted, facts


def networkx_communities(holdings: list[Holding], seed: int = 7) -> list[list[str]]:
    """The same rule with networkx: components of the person–key graph without hubs, Louvain inside large ones."""
    import networkx as nx

    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in holdings:
        holders[(h.kind, h.key)].add(h.person)
    g = nx.Graph()
    for (kind, key), people in holders.items():
        if 1 < len(people) <= graph.HUB_SIZE:
            g.add_edges_from((p, f"#{kind}:{key}") for p in people)
    out = []
    for component in nx.connected_components(g):
        people = [n for n in component if not n.startswith("#")]
        if len(people) <= graph.SPLIT_SIZE:
            out.append(sorted(people))
            continue
        for part in nx.community.louvain_communities(g.subgraph(component), seed=seed):
            members = sorted(n for n in part if not n.startswith("#"))
            if len(members) >= 2:
                out.append(members)
    return out


def score(found: list[list[str]], planted: list[set[str]], facts: Facts) -> dict[str, float]:
    flagged = [set(c) for c in found if graph.flag(c, facts).score >= 3.0]
    ring_people = set().union(*planted)
    recalled, purity = 0, []
    for ring in planted:
        home = next((c for c in flagged if ring <= c), None)
        if home is not None:
            recalled += 1
            purity.append(len(ring) / len(home))
    false_flags = sum(1 for c in flagged if not c & ring_people)
    return {
        "flagged": len(flagged),
        "recall": recalled / len(planted),
        "false_flags": false_flags,
        "purity": sum(purity) / len(purity) if purity else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--rings", type=int, default=0, help="default: one per 2,000 persons")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-networkx", action="store_true")
    args = parser.parse_args()
    rings = args.rings or max(5, args.persons // 2000)
    print(f"# bench/network.py — {time.strftime('%Y-%m-%d')} — {platform.node()} ({platform.machine()})")
    print(f"command: python bench/network.py --persons {args.persons} --rings {rings} --seed {args.seed}")
    holdings, planted, facts = population(args.persons, rings, args.seed)
    print(f"{args.persons:,} persons, {len(holdings):,} holdings, {rings} planted rings")

    start = time.perf_counter()
    found = graph.communities(holdings)
    detect_s = time.perf_counter() - start
    start = time.perf_counter()
    result = score(found, planted, facts)
    flag_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"travesia (igraph Leiden): {len(found):,} communities in {detect_s:.1f} s, flagging {flag_s:.1f} s, "
        f"peak {peak:,.0f} MiB; flagged {result['flagged']}, ring recall {result['recall']:.3f}, "
        f"false flags {result['false_flags']}, purity {result['purity']:.2f}"
    )
    if not args.skip_networkx:
        start = time.perf_counter()
        reference = networkx_communities(holdings)
        nx_s = time.perf_counter() - start
        ref = score(reference, planted, facts)
        print(
            f"networkx (Louvain, same rule): {len(reference):,} communities in {nx_s:.1f} s "
            f"({nx_s / detect_s:.1f}x ours); flagged {ref['flagged']}, ring recall {ref['recall']:.3f}, "
            f"false flags {ref['false_flags']}, purity {ref['purity']:.2f}"
        )


if __name__ == "__main__":
    main()
