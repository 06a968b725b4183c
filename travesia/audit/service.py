"""Use cases of the audit trail: append an event (inside the caller's transaction), read, verify, anchor, sign
tree heads and prove inclusion and consistency."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from travesia.audit import heads, merkle, repository, tree
from travesia.audit.chain import (
    MISSING_HEAD,
    PROBLEMS,
    Link,
    Verdict,
    canonical_json,
    event_hash,
    hashed_fields,
    verify_links,
)
from travesia.audit.heads import HeadFileProblem, SignedHead
from travesia.audit.schemas import Anchor, AuditFilter, ConsistencyProof, InclusionProof
from travesia.core.db import new_id, utcnow
from travesia.core.principal import Principal
from travesia.models import AuditEvent

OUTCOMES = ("ok", "refused", "failed")


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    record_type: str | None = None,
    record_id: str | uuid.UUID | None = None,
    outcome: str = "ok",
    purpose: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction: it commits or rolls back with the change.

    ``details`` must hold no personal data (identifiers and codes only): the trail outlives retention.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    head = repository.lock_head(session)
    event = AuditEvent(
        seq=head.seq + 1,
        event_id=new_id(),
        occurred_at=utcnow(),
        actor_id=principal.user_id,
        actor=principal.username,
        roles=",".join(sorted(principal.roles)),
        station=principal.station_code,
        via=principal.via,
        action=action,
        outcome=outcome,
        record_type=record_type,
        record_id=str(record_id) if record_id is not None else None,
        purpose=purpose,
        details=canonical_json(details or {}),
        prev_hash=head.hash,
    )
    event.hash = event_hash(hashed_fields(event), head.hash)
    repository.add_event(session, event, head)
    return event


# What other records belong to a record (a person's registrations and groups), given by the application
# (app.state.related_records): audit sits below the domains that know.
Related = Callable[[Session, str], list[str]]


def list_events(
    session: Session, principal: Principal, query: AuditFilter, related: Related | None = None
) -> list[AuditEvent]:
    widened = related(session, query.record_id) if related is not None and query.record_id else []
    events = repository.list_events(session, query, widened)
    record(session, principal, "audit.read", details={"count": len(events)})
    return events


@dataclasses.dataclass(frozen=True)
class TrustedHeads:
    """Where verification reads signed heads and the key it trusts (an outside auditor brings both)."""

    path: Path
    public_key: Ed25519PublicKey


def verify(session: Session, anchor: tuple[int, str] | None = None, trusted: TrustedHeads | None = None) -> Verdict:
    """The chain, event by event, and the Merkle root at every signed head's size, in one pass over the trail."""
    try:
        signed = heads.read_heads(trusted.path) if trusted else []
    except HeadFileProblem as problem:
        return _head_problem(Verdict(False, 0, 0, ""), "heads_unreadable", str(problem), None)
    for head in signed:
        if not heads.signature_valid(head, trusted.public_key):  # type: ignore[union-attr]
            return _head_problem(Verdict(False, 0, 0, ""), "signature_invalid", f"head of size {head.size}", head)
    stream = merkle.RootStream()
    pending = sorted(signed, key=lambda h: h.size)
    mismatch: list[SignedHead] = []

    def links_and_roots() -> Iterator[Link]:
        for link in repository.iter_links(session):
            yield link  # verify_links checks the event before asking for the next one
            stream.append(tree.leaf_of(link.hash))
            while pending and pending[0].size == stream.size:
                head = pending.pop(0)
                if stream.root().hex() != head.root:
                    mismatch.append(head)
                    return

    while pending and pending[0].size == 0:
        pending.pop(0)
    verdict = verify_links(links_and_roots(), head=repository.read_head(session) or MISSING_HEAD, anchor=anchor)
    latest = signed[-1] if signed else None
    verdict = dataclasses.replace(
        verdict,
        signed_size=latest.size if latest else None,
        signed_at=latest.signed_at if latest else None,
        heads_checked=len(signed) - len(pending),
    )
    if mismatch:
        head = mismatch[0]
        return _head_problem(verdict, "signed_root_mismatch", f"signed head of size {head.size}", head)
    if verdict.ok and pending:
        head = pending[0]
        detail = f"a head signed at {head.signed_at} covers {head.size} events; the trail has {verdict.checked}"
        return _head_problem(verdict, "signed_events_missing", detail, head)
    return verdict


def _head_problem(verdict: Verdict, code: str, detail: str, head: SignedHead | None) -> Verdict:
    return dataclasses.replace(
        verdict,
        ok=False,
        problem=f"{PROBLEMS[code]} ({detail})",
        problem_code=code,
        bad_seq=head.size if head else None,
        bad_event_id=None,
    )


def verify_and_record(
    session: Session,
    principal: Principal,
    anchor: tuple[int, str] | None = None,
    trusted: TrustedHeads | None = None,
) -> Verdict:
    verdict = verify(session, anchor, trusted)
    record(
        session,
        principal,
        "audit.verify",
        outcome="ok" if verdict.ok else "failed",
        details={"checked": verdict.checked, "bad_seq": verdict.bad_seq, "signed_size": verdict.signed_size},
    )
    return verdict


def sign_head(session: Session, key: Ed25519PrivateKey, path: Path, *, force: bool = False) -> SignedHead | None:
    """Sign the tree of every committed event and append the head to the file; None when nothing was added since
    the last head (unless ``force``). Refuses to sign a tree that does not extend the last signed one."""
    stored = repository.read_head(session)
    if stored is None:
        raise tree.EventsMissing("the chain head row is missing")
    size = stored[0]
    last = heads.latest(path)
    if last is not None and last.size == size and not force:
        return None
    tree.extend(session, size)
    stored_tree = tree.StoredTree(session)
    if last is not None and (last.size > size or stored_tree.root(last.size).hex() != last.root):
        raise HistoryRewritten(last.size)
    head = heads.sign_head(key, size, stored_tree.root(size), utcnow())
    heads.append_head(path, head)
    return head


class HistoryRewritten(Exception):
    """The stored events do not give the root of the last signed head: nothing more is signed."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the first {size} events no longer give the root signed for them")
        self.size = size


def sign_and_record(session: Session, principal: Principal, key: Ed25519PrivateKey, path: Path) -> SignedHead:
    head = sign_head(session, key, path, force=True)
    assert head is not None
    record(session, principal, "audit.sign", details={"size": head.size, "root": head.root})
    return head


def inclusion_proof(session: Session, seq: int, size: int) -> InclusionProof:
    """The O(log n) hashes that prove event ``seq`` is in the tree of the first ``size`` events."""
    stored_tree = tree.StoredTree(session)
    proof = stored_tree.inclusion_proof(seq - 1, size)
    return InclusionProof(
        seq=seq,
        size=size,
        leaf=stored_tree.leaf(seq - 1).hex(),
        root=stored_tree.root(size).hex(),
        proof=[p.hex() for p in proof],
    )


def consistency_proof(session: Session, first: int, second: int) -> ConsistencyProof:
    """The O(log n) hashes that prove the tree of ``second`` events extends the tree of ``first`` events."""
    stored_tree = tree.StoredTree(session)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=stored_tree.root(first).hex(),
        second_root=stored_tree.root(second).hex(),
        proof=[p.hex() for p in stored_tree.consistency_proof(first, second)],
    )


def pending_tree_nodes(session: Session, *, limit: int) -> tuple[list[tuple[int, int, str]], int]:
    """Up to ``limit`` more of the tree's lowest stored nodes (and the parents they complete), by reads only; and
    how many remain after them."""
    return tree.pending_nodes(session, tree_size(session), limit=limit)


def store_tree_nodes(session: Session, nodes: list[tuple[int, int, str]]) -> None:
    repository.add_tree_nodes(session, nodes)


def tree_size(session: Session) -> int:
    stored = repository.read_head(session)
    return stored[0] if stored else 0


def anchor(session: Session) -> Anchor:
    seq, digest = repository.read_head(session) or (0, "")
    event = repository.event_at(session, seq) if seq else None
    return Anchor(seq=seq, hash=digest, occurred_at=event.occurred_at if event else None, exported_at=utcnow())
