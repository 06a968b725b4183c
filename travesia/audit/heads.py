"""Signed tree heads: the audit tree's size and root, signed with an Ed25519 key kept outside the database and
appended to a file outside it, which auditors and partners copy (``GET /api/v1/audit/heads``).

A database administrator can rewrite the events and recompute every hash, but cannot sign: every head signed before
the rewrite then names a root the stored events no longer give, and ``travesia audit verify`` says so.

The signed text follows the shape of a C2SP transparency-log checkpoint (origin, size, base64 root, then the time),
so it reads the same way as Go's sumdb and Sigstore's heads; the file holds one JSON object per line.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from travesia.core.crypto import key_id

ORIGIN = "travesia/audit/v1"


@dataclass(frozen=True)
class SignedHead:
    size: int
    root: str  # hex of the RFC 6962 root over the first ``size`` events
    signed_at: str  # UTC, ISO-8601
    key_id: str
    signature: str  # base64 Ed25519 over ``signed_text``

    def signed_text(self) -> bytes:
        return checkpoint_text(self.size, bytes.fromhex(self.root), self.signed_at)

    def to_line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def checkpoint_text(size: int, root: bytes, signed_at: str) -> bytes:
    return f"{ORIGIN}\n{size}\n{base64.b64encode(root).decode()}\n{signed_at}\n".encode()


def sign_head(key: Ed25519PrivateKey, size: int, root: bytes, signed_at: datetime) -> SignedHead:
    when = signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    signature = key.sign(checkpoint_text(size, root, when))
    return SignedHead(size, root.hex(), when, key_id(key.public_key()), base64.b64encode(signature).decode())


def signature_valid(head: SignedHead, public: Ed25519PublicKey) -> bool:
    if head.key_id != key_id(public):
        return False
    try:
        public.verify(base64.b64decode(head.signature, validate=True), head.signed_text())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class HeadFileProblem(ValueError):
    """A line of the file of signed heads is not a signed head (the file was edited or damaged)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line


def parse_line(text: str, number: int) -> SignedHead:
    try:
        data = json.loads(text)
        head = SignedHead(
            size=int(data["size"]),
            root=str(data["root"]),
            signed_at=str(data["signed_at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
        bytes.fromhex(head.root)
    except (ValueError, KeyError, TypeError) as error:
        raise HeadFileProblem(number, f"not a signed head ({type(error).__name__})") from None
    if head.size < 0 or len(head.root) != 64:
        raise HeadFileProblem(number, "size or root out of range")
    return head


def read_heads(path: Path) -> list[SignedHead]:
    """Every head in the file, oldest first; a missing file has none. Raises HeadFileProblem on a bad line."""
    if not path.exists():
        return []
    heads = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                heads.append(parse_line(line, number))
    return heads


def append_head(path: Path, head: SignedHead) -> None:
    """Append one line, durably; a lock keeps two processes' heads from interleaving. The file is only ever
    appended to (make it append-only with ``chattr +a`` where the file system allows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            file.write(head.to_line() + "\n")
            file.flush()
            os.fsync(file.fileno())
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def latest(path: Path) -> SignedHead | None:
    heads = read_heads(path)
    return heads[-1] if heads else None
