"""The pure network functions: contact keys, hop-by-hop expansion, community detection, flags."""

import pytest

from travesia.network import graph
from travesia.network.graph import Facts, Holding


def test_contact_keys():
    assert graph.contact_key(None, "+507 6123-4567", None) == graph.contact_key(None, "(507) 61234567", None)
    assert graph.contact_key(None, "+57 300 612 3456", None) == graph.contact_key(None, "300 612 3456", None)
    assert graph.contact_key("José  PÉREZ", None, None) == graph.contact_key("perez jose", None, None)
    assert graph.contact_key("Ana", None, "ACCT 991 22") == "acct:acct99122"
    with pytest.raises(ValueError, match="name, a phone or an account"):
        graph.contact_key(None, None, None)


def chain(n):
    """p0 - p1 - p2 - ... linked by one phone per consecutive pair."""
    return [Holding(f"p{i + d}", "phone", f"k{i}") for i in range(n - 1) for d in (0, 1)]


def test_expansion_goes_one_hop_at_a_time_and_asks_only_for_the_frontier():
    holdings = chain(6)
    asked = []

    def holdings_of(frontier):
        asked.append(set(frontier))
        keys = {(h.kind, h.key) for h in holdings if h.person in frontier}
        return [h for h in holdings if (h.kind, h.key) in keys]

    one = graph.expand("p2", 1, holdings_of)
    assert one.hops == {"p2": 0, "p1": 1, "p3": 1} and len(one.links) == 2
    asked.clear()
    two = graph.expand("p2", 2, holdings_of)
    assert two.hops == {"p2": 0, "p1": 1, "p3": 1, "p0": 2, "p4": 2}
    assert asked == [{"p2"}, {"p1", "p3"}]  # never the whole graph
    assert {(link.a, link.b) for link in two.links} == {("p1", "p2"), ("p2", "p3"), ("p0", "p1"), ("p3", "p4")}


def test_a_busy_key_is_drawn_up_to_a_limit_and_counted_beyond():
    holdings = [Holding(f"c{i:03d}", "guide", "tel:1") for i in range(graph.MAX_PER_KEY + 10)]
    hood = graph.expand("c000", 1, lambda frontier: holdings)
    assert len(hood.hops) == graph.MAX_PER_KEY + 1
    assert hood.hidden == {("guide", "tel:1"): 9}


def test_small_rings_are_kept_whole():
    ring_a = [Holding(f"a{i}", "payer", "acct:a") for i in range(6)] + [
        Holding(f"a{i}", "phone", f"pa{i % 2}") for i in range(6)
    ]
    ring_b = [Holding(f"b{i}", "payer", "acct:b") for i in range(6)]
    loner = [Holding("z", "phone", "only-me")]
    found = graph.communities(ring_a + ring_b + loner)
    assert found == [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]


def test_a_large_connected_group_is_cut_at_its_weak_tie():
    ring_a = [Holding(f"a{i:02d}", "payer", "acct:a") for i in range(30)]
    ring_b = [Holding(f"b{i:02d}", "payer", "acct:b") for i in range(30)]
    tie = [Holding("a00", "contact", "name:x"), Holding("b00", "contact", "name:x")]
    found = graph.communities(ring_a + ring_b + tie)
    bulk = found[:2]  # the two largest: each ring, less at most its end of the tie
    assert {p[0] for p in bulk[0]} != {p[0] for p in bulk[1]}
    assert all(len(c) >= 29 and len({p[0] for p in c}) == 1 for c in bulk)


def test_hubs_are_left_out_of_detection():
    hub = [Holding(f"h{i}", "guide", "tel:busy") for i in range(graph.HUB_SIZE + 1)]
    assert graph.communities(hub) == []
    small = hub[: graph.SPLIT_SIZE]
    assert graph.communities(small) == [sorted(h.person for h in small)]


def facts(holdings, children=(), groups=None, alerts=None):
    return Facts(holdings, alerts or {}, frozenset(children), groups or {})


def test_flags_give_their_reasons():
    # one payer behind five unrelated parties, a child alone among them
    holdings = [Holding(p, "payer", "acct:w") for p in ("a", "b", "c", "d", "kid")]
    groups = {"a": frozenset({"g1"}), "b": frozenset({"g1"}), "c": frozenset({"g2"})}
    result = graph.flag(["a", "b", "c", "d", "kid"], facts(holdings, children={"kid"}, groups=groups))
    reasons = {r["reason"]: r for r in result.reasons}
    assert reasons["parties_share_payer"]["parties"] == 4  # g1 (a, b), g2, d, kid
    assert reasons["child_alone_linked_to_adults"]["persons"] == 4
    assert result.score == pytest.approx(sum(r["weight"] for r in result.reasons))


def test_a_family_sharing_a_payer_is_not_flagged():
    family = frozenset({"g1"})
    holdings = [Holding(p, "payer", "acct:mum") for p in ("mum", "son", "kid")]
    groups = {"mum": family, "son": family, "kid": family}
    result = graph.flag(["mum", "son", "kid"], facts(holdings, children={"kid"}, groups=groups))
    assert result.reasons == [] and result.score == 0


def test_a_shared_document_is_a_lead_only_between_different_people():
    holdings = [Holding("a", "document", "P1:VEN"), Holding("b", "document", "P1:VEN")]
    same = Facts(holdings, {}, frozenset(), {}, {"a": ("F", 1990), "b": ("F", 1991)})  # an estimated year
    other = Facts(holdings, {}, frozenset(), {}, {"a": ("F", 1990), "b": ("M", 1971)})
    assert graph.flag(["a", "b"], same).reasons == []
    assert [r["reason"] for r in graph.flag(["a", "b"], other).reasons] == ["document_shared"]


def test_a_busy_guide_alone_stays_below_the_flag():
    holdings = [Holding(f"p{i}", "guide", "tel:g") for i in range(50)]
    assert graph.flag([f"p{i}" for i in range(50)], facts(holdings)).score <= graph.PARTY_WEIGHTS["guide"][1]


def test_a_key_is_drawn_once_however_many_hops():
    holdings = [Holding(f"p{i}", "payer", "acct:w") for i in range(4)] + [
        Holding("p3", "phone", "t1"),
        Holding("q", "phone", "t1"),
    ]

    def holdings_of(frontier):
        keys = {(h.kind, h.key) for h in holdings if h.person in frontier}
        return [h for h in holdings if (h.kind, h.key) in keys]

    hood = graph.expand("p0", 2, holdings_of)
    assert hood.hops == {"p0": 0, "p1": 1, "p2": 1, "p3": 1, "q": 2}
    assert sorted((link.a, link.b, link.kind) for link in hood.links) == [
        ("p0", "p1", "payer"), ("p0", "p2", "payer"), ("p0", "p3", "payer"), ("p3", "q", "phone"),
    ]  # fmt: skip
