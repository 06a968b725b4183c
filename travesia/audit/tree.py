"""The audit Merkle tree as the database holds it: roots and proofs from stored perfect subtrees (2**8 events and
up) plus at most a few hundred event hashes, so a proof over millions of events reads O(log n) rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from travesia.audit import merkle, repository

STORED_HEIGHT = 8  # nodes over 256 events and more are stored; below, they are computed from the events


class EventsMissing(LookupError):
    """A range of the tree has fewer events than its positions: events were removed."""


def leaf_of(chain_hash: str) -> bytes:
    """The tree's leaf for one event: its chain hash (which covers its content and its predecessor)."""
    try:
        return merkle.leaf_hash(bytes.fromhex(chain_hash))
    except ValueError:  # a hash edited into something that is not hex still makes a leaf, and a mismatching root
        return merkle.leaf_hash(chain_hash.encode())


class StoredTree:
    def __init__(self, session: Session) -> None:
        self.session = session

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of leaves start..end-1: stored where the range is a perfect subtree that is stored."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            height = n.bit_length() - 1
            if height >= STORED_HEIGHT:
                stored = repository.tree_node(self.session, height, start >> height)
                if stored is not None:
                    return bytes.fromhex(stored)
                half = n // 2
                return merkle.node_hash(self.subtree(start, start + half), self.subtree(start + half, end))
            return self._from_events(start, end)
        k = merkle.split_point(n)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def _from_events(self, start: int, end: int) -> bytes:
        hashes = repository.event_hashes(self.session, start, end)
        if len(hashes) != end - start:
            raise EventsMissing(f"events {start + 1}..{end}: {end - start - len(hashes)} missing")
        return merkle.root_of([leaf_of(h) for h in hashes])

    def root(self, size: int) -> bytes:
        return merkle.EMPTY_ROOT if size == 0 else self.subtree(0, size)

    def leaf(self, index: int) -> bytes:
        hashes = repository.event_hashes(self.session, index, index + 1)
        if not hashes:
            raise EventsMissing(f"event {index + 1} missing")
        return leaf_of(hashes[0])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, size, self.subtree)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return merkle.consistency_proof(first, second, self.subtree)


def pending_nodes(session: Session, size: int, *, limit: int | None = None) -> tuple[list[tuple[int, int, str]], int]:
    """The perfect subtrees (height >= STORED_HEIGHT) that the first ``size`` events complete and that are not
    stored yet — at most ``limit`` of the lowest stored height, with the parents they complete — computed by reads
    alone, so a caller can store them in a short write of its own; and how many of the lowest height remain."""
    height = STORED_HEIGHT
    have, need = repository.stored_nodes(session, height), size >> height
    todo = range(have, need if limit is None else min(need, have + limit))
    tree = StoredTree(session)
    new: dict[tuple[int, int], str] = {
        (height, pos): tree._from_events(pos << height, (pos + 1) << height).hex() for pos in todo
    }
    stored_below = have + len(todo)
    while stored_below >= 2:  # parents whose two children are now stored (or about to be)
        height += 1
        have_here = repository.stored_nodes(session, height)
        for pos in range(have_here, stored_below // 2):
            left = new.get((height - 1, 2 * pos)) or repository.tree_node(session, height - 1, 2 * pos)
            right = new.get((height - 1, 2 * pos + 1)) or repository.tree_node(session, height - 1, 2 * pos + 1)
            assert left is not None and right is not None
            new[(height, pos)] = merkle.node_hash(bytes.fromhex(left), bytes.fromhex(right)).hex()
        stored_below = stored_below // 2
    return [(h, p, digest) for (h, p), digest in new.items()], need - have - len(todo)


def extend(session: Session, size: int, *, limit: int | None = None) -> int:
    """Store what ``pending_nodes`` finds, in the caller's transaction; returns how many remain."""
    nodes, remaining = pending_nodes(session, size, limit=limit)
    repository.add_tree_nodes(session, nodes)
    return remaining
