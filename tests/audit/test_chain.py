"""The chain's verification as a pure function: every kind of tampering is found at the right event."""

import dataclasses

import pytest

from travesia.audit.chain import GENESIS, Link, event_hash, verify_links


def build(n: int) -> list[Link]:
    links, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = {
            "seq": seq, "event_id": f"e{seq}", "occurred_at": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "actor_id": None, "actor": "cli:test", "roles": "admin", "station": "HQ", "via": "cli",
            "action": "user.create", "outcome": "ok", "record_type": "user", "record_id": f"u{seq}",
            "purpose": None, "details": "{}",
        }  # fmt: skip
        digest = event_hash(fields, prev)
        links.append(Link(fields=fields, prev_hash=prev, hash=digest))
        prev = digest
    return links


def rehash(link: Link, prev: str, **changes: object) -> Link:
    fields = {**link.fields, **changes}
    return Link(fields=fields, prev_hash=prev, hash=event_hash(fields, prev))


def head_of(links: list[Link]) -> tuple[int, str]:
    return links[-1].seq, links[-1].hash


def test_intact_chain_verifies():
    links = build(10)
    verdict = verify_links(links, head=head_of(links))
    assert verdict.ok and verdict.checked == 10 and verdict.head_seq == 10


def test_changed_event_is_named():
    links = build(10)
    links[4] = dataclasses.replace(links[4], fields={**links[4].fields, "action": "user.delete"})
    verdict = verify_links(links, head=head_of(build(10)))
    assert not verdict.ok and verdict.bad_seq == 5 and verdict.problem_code == "content_changed"


def test_changed_and_rehashed_event_breaks_the_next_link():
    links = build(10)
    links[4] = rehash(links[4], links[3].hash, action="user.delete")
    verdict = verify_links(links, head=head_of(build(10)))
    assert not verdict.ok and verdict.bad_seq == 6 and verdict.problem_code == "link_broken"


def test_deleted_event_is_named():
    links = build(10)
    del links[6]
    verdict = verify_links(links, head=head_of(build(10)))
    assert not verdict.ok and verdict.bad_seq == 8 and verdict.problem_code == "missing"


def test_inserted_event_is_named():
    links = build(10)
    forged = rehash(links[4], links[4].hash, seq=6, event_id="forged")
    renumbered = [dataclasses.replace(link, fields={**link.fields, "seq": link.seq + 1}) for link in links[5:]]
    verdict = verify_links([*links[:5], forged, *renumbered])
    assert not verdict.ok and verdict.bad_seq == 7  # the first original event after the forgery no longer links


def test_reordered_events_are_named():
    links = build(10)
    links[3], links[4] = links[4], links[3]
    verdict = verify_links(links, head=head_of(build(10)))
    assert not verdict.ok and verdict.bad_seq == 5  # event 5 stands where 4 should


def test_reordered_with_swapped_numbers_is_named():
    links = build(10)
    a, b = links[3], links[4]
    links[3] = dataclasses.replace(b, fields={**b.fields, "seq": 4})
    links[4] = dataclasses.replace(a, fields={**a.fields, "seq": 5})
    verdict = verify_links(links, head=head_of(build(10)))
    assert not verdict.ok and verdict.bad_seq == 4 and verdict.problem_code == "link_broken"


def test_truncated_tail_is_caught_by_the_head_and_the_anchor():
    full = build(10)
    verdict = verify_links(full[:8], head=head_of(full))
    assert not verdict.ok and verdict.problem_code == "head_mismatch"
    # An attacker who also rewrote the head row is still caught by an anchor kept elsewhere.
    verdict = verify_links(full[:8], head=head_of(full[:8]), anchor=head_of(full))
    assert not verdict.ok and verdict.problem_code == "anchor_missing"


@pytest.mark.parametrize("seq", [3, 10])
def test_anchor_must_match(seq):
    links = build(10)
    assert verify_links(links, anchor=(seq, links[seq - 1].hash)).ok
    verdict = verify_links(links, anchor=(seq, "f" * 64))
    assert not verdict.ok and verdict.bad_seq == seq and verdict.problem_code == "anchor_mismatch"
