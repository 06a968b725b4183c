"""The audit trail as an RFC 6962 Merkle tree (the Certificate Transparency / Trillian model), as pure functions.

Leaf i is event seq i+1; its input is the 32 bytes of the event's chain hash, which commits to the event's content
and to everything before it. Tree heads (size, root) are signed outside the database (travesia.audit.heads); with
them an auditor checks, in O(log n) hashes, that one event is in the tree (inclusion) and that a later tree extends
an earlier one without rewriting it (consistency).

Proofs are built from a ``subtree(start, end)`` function that hashes a range of leaves, so the same code serves a
list in memory (tests, the reference vectors) and the database's stored nodes (travesia.audit.repository).
Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with ``leaf_hash``)."""
    if not leaves:
        return EMPTY_ROOT
    return subtree_of(leaves)(0, len(leaves))


def subtree_of(leaves: Sequence[bytes]) -> Subtree:
    """A ``subtree`` function over leaf hashes held in memory."""

    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        k = split_point(end - start)
        return node_hash(subtree(start, start + k), subtree(start + k, end))

    return subtree


class RootStream:
    """The root of every prefix of a stream of leaves, in O(log n) memory: the perfect subtrees of the prefix, left
    to right. Verification walks millions of events once and checks every signed head on the way."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, hash); heights strictly decreasing

    def append(self, leaf: bytes) -> None:
        height, digest = 0, leaf
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            height, digest = height + 1, node_hash(left, digest)
        self._stack.append((height, digest))
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size]): the sibling hashes from leaf ``index`` up to the root, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    return _path(index, 0, size, subtree)


def _path(m: int, start: int, end: int, subtree: Subtree) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(m, start, start + k, subtree), subtree(start + k, end)]
    return [*_path(m - k, start + k, end, subtree), subtree(start, start + k)]


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PROOF(first, D[0:second]): the hashes that show the tree of ``second`` leaves extends the tree of
    ``first`` leaves."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    return _subproof(first, 0, second, True, subtree)


def _subproof(m: int, start: int, end: int, whole: bool, subtree: Subtree) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [subtree(start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, start, start + k, whole, subtree), subtree(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, subtree), subtree(start, start + k)]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` leads to from ``leaf`` (RFC 9162 §2.1.3.2), or None when the proof has the wrong
    shape for this index and size."""
    if not 0 <= index < size:
        return None
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    return digest if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show that the tree (second, second_root) extends (first, first_root)?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is itself the first node of the proof
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
