"""The audit hash chain, as pure functions: the digest of one event, and verification of a sequence.

Each event's hash is SHA-256 over the canonical JSON of its fields (seq included) and the previous event's hash,
so changing, removing, inserting or reordering any event breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from travesia.core.errors import N_

GENESIS = "0" * 64
MISSING_HEAD = (-1, "")  # what verification is given when the chain head's row is gone

# The fields that the hash covers, in the order a reader sees them. Adding one is a chain format change.
HASHED_FIELDS = (
    "seq",
    "event_id",
    "occurred_at",
    "actor_id",
    "actor",
    "roles",
    "station",
    "via",
    "action",
    "outcome",
    "record_type",
    "record_id",
    "purpose",
    "details",
)


def field_value(name: str, value: object) -> object:
    """How a stored value enters the hash: UUIDs as text, times as UTC ISO-8601 with microseconds."""
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def hashed_fields(event: object) -> dict[str, object]:
    """The hashed fields of a stored or new event (any object with those attributes), ready for event_hash."""
    return {name: field_value(name, getattr(event, name)) for name in HASHED_FIELDS}


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(fields: Mapping[str, object], prev_hash: str) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """What verification needs of one stored event (its hashed fields already in canonical string form)."""

    fields: Mapping[str, object]
    prev_hash: str
    hash: str

    @property
    def seq(self) -> int:
        return int(self.fields["seq"])  # type: ignore[call-overload]


# Why a chain is broken, as translatable messages for pages; `Verdict.problem` adds the numbers in English.
PROBLEMS = {
    "missing": N_("events are missing before this one"),
    "out_of_order": N_("events are out of order"),
    "link_broken": N_("its link to the previous event is broken: an earlier event was changed, removed, "
                      "inserted or reordered"),
    "content_changed": N_("its content was changed"),
    "anchor_mismatch": N_("it differs from the anchor kept by the auditor"),
    "head_mismatch": N_("the chain head does not match the last event: events were removed or added at the end"),
    "anchor_missing": N_("the anchored event is missing: the trail was truncated"),
    "head_missing": N_("the chain head is missing: the trail was tampered with"),
    "signed_root_mismatch": N_("the events no longer give the root of a signed tree head: history was rewritten "
                               "after it was signed"),
    "signed_events_missing": N_("events covered by a signed tree head are missing: the trail was cut after it "
                                "was signed"),
    "signature_invalid": N_("a tree head in the file of signed heads does not carry the audit key's signature: "
                            "the file was edited"),
    "heads_unreadable": N_("the file of signed tree heads is damaged"),
}  # fmt: skip
SIGNED_PROBLEMS = frozenset({"signed_root_mismatch", "signed_events_missing", "signature_invalid", "heads_unreadable"})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    bad_event_id: str | None = None
    problem: str | None = None
    problem_code: str | None = None
    signed_size: int | None = None  # the latest signed tree head the trail was checked against, if any
    signed_at: str | None = None
    heads_checked: int = 0


def verify_links(
    links: Iterable[Link], *, head: tuple[int, str] | None = None, anchor: tuple[int, str] | None = None
) -> Verdict:
    """Walk the chain from genesis; return the first event that breaks it and why.

    ``head`` is the stored chain head, MISSING_HEAD when its row is gone (catches events removed from the end);
    ``anchor`` is a (seq, hash) pair an auditor kept elsewhere. Signed tree heads (travesia.audit.heads) catch a chain
    rewritten wholesale without anyone keeping an anchor.
    """
    expected_seq, expected_prev, checked = 1, GENESIS, 0
    anchor_seen = anchor is None or anchor[0] == 0
    for link in links:
        event_id = str(link.fields.get("event_id"))
        if link.seq != expected_seq:
            if link.seq > expected_seq:
                code, detail = "missing", f"event(s) {expected_seq}..{link.seq - 1} missing"
            else:
                code, detail = (
                    "out_of_order",
                    f"sequence number {link.seq} out of order (expected {expected_seq})",
                )
            return Verdict(False, checked, link.seq, link.hash, link.seq, event_id, detail, code)
        if link.prev_hash != expected_prev:
            return _broken(checked, link, event_id, "link_broken")
        if event_hash(link.fields, link.prev_hash) != link.hash:
            return _broken(checked, link, event_id, "content_changed")
        if anchor is not None and link.seq == anchor[0]:
            if link.hash != anchor[1]:
                return _broken(checked, link, event_id, "anchor_mismatch")
            anchor_seen = True
        checked += 1
        expected_seq, expected_prev = link.seq + 1, link.hash
    last_seq = expected_seq - 1
    if head == MISSING_HEAD:
        detail = f"the chain head row is missing; the trail ends at event {last_seq}"
        return Verdict(False, checked, last_seq, expected_prev, last_seq + 1, None, detail, "head_missing")
    if head is not None and head != (last_seq, expected_prev):
        detail = f"chain head says event {head[0]} but the trail ends at {last_seq}: events removed or added"
        return Verdict(False, checked, last_seq, expected_prev, last_seq + 1, None, detail, "head_mismatch")
    if not anchor_seen:
        assert anchor is not None
        detail = f"anchored event {anchor[0]} is missing: the trail was truncated"
        return Verdict(False, checked, last_seq, expected_prev, anchor[0], None, detail, "anchor_missing")
    return Verdict(True, checked, last_seq, expected_prev)


def _broken(checked: int, link: Link, event_id: str, code: str) -> Verdict:
    return Verdict(False, checked, link.seq, link.hash, link.seq, event_id, PROBLEMS[code], code)
