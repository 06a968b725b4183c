"""The signed envelope a field station sends central: pure functions over keys and bytes.

Layout (all that central reads before trusting anything is the fixed prefix)::

    b"TRVSYNC1" | header length (4 bytes, big-endian) | header (canonical JSON) | Ed25519 signature (64 bytes) | payload

The signature covers the magic and the header; the header carries the SHA-256 and size of the payload, so one
signature covers every byte. Every attempt is sealed anew with a fresh nonce: a retry after a lost acknowledgement is
a new envelope (answered as already stored), while the same envelope seen twice is a replay (refused). Nothing here
reads a clock to decide freshness, because a station's clock may be wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from travesia.core.crypto import key_id

MAGIC = b"TRVSYNC1"
SIGNATURE_SIZE = 64
MAX_HEADER = 16 * 1024
MAX_PAYLOAD = 64 * 1024 * 1024  # decompressed: a batch is cut well below this by the sender
KINDS = ("encounters", "samples", "feed")
HEADER_FIELDS = {
    "kind",
    "station",
    "key_id",
    "nonce",
    "station_time",
    "first_seq",
    "last_seq",
    "count",
    "payload_sha256",
    "payload_size",
    "body",
}


class EnvelopeProblem(Exception):
    """The envelope cannot be trusted or read; ``field`` names the part, the message says what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class Envelope:
    header: dict[str, object]
    signature: bytes
    signed: bytes
    payload: bytes  # compressed
    digest: str  # SHA-256 of the whole envelope: what makes a replay recognisable

    @property
    def station(self) -> str:
        return str(self.header["station"])

    @property
    def key_id(self) -> str:
        return str(self.header["key_id"])


def canonical(data: dict[str, object]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal(
    key: Ed25519PrivateKey,
    *,
    kind: str,
    station: str,
    items: Iterable[dict[str, object]] = (),
    first_seq: int = 0,
    last_seq: int = 0,
    body: dict[str, object] | None = None,
    now: datetime | None = None,
) -> bytes:
    """An envelope of ``items`` (JSON lines, gzip) with the station's clock reading and a fresh nonce."""
    lines = [canonical(item) for item in items]
    payload = gzip.compress(b"\n".join(lines), compresslevel=6, mtime=0)
    header = {
        "kind": kind,
        "station": station,
        "key_id": key_id(key.public_key()),
        "nonce": str(uuid.uuid4()),
        "station_time": (now or datetime.now(UTC)).isoformat(),
        "first_seq": first_seq,
        "last_seq": last_seq,
        "count": len(lines),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_size": len(payload),
        "body": body or {},
    }
    head = canonical(header)
    signed = MAGIC + struct.pack(">I", len(head)) + head
    return signed + key.sign(signed) + payload


def parse(blob: bytes) -> Envelope:
    """Read the parts without trusting them yet (the header names the key that ``verify`` checks)."""
    if not blob.startswith(MAGIC):
        raise EnvelopeProblem("envelope", "not a signed Travesía sync envelope (unsigned or another format)")
    if len(blob) < len(MAGIC) + 4:
        raise EnvelopeProblem("envelope", "truncated before the header")
    (size,) = struct.unpack(">I", blob[len(MAGIC) : len(MAGIC) + 4])
    if size > MAX_HEADER:
        raise EnvelopeProblem("header", f"too long ({size} bytes)")
    end = len(MAGIC) + 4 + size
    if len(blob) < end + SIGNATURE_SIZE:
        raise EnvelopeProblem("signature", "missing or truncated")
    try:
        header = json.loads(blob[len(MAGIC) + 4 : end])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EnvelopeProblem("header", "not JSON") from None
    if not isinstance(header, dict) or set(header) != HEADER_FIELDS:
        raise EnvelopeProblem("header", "fields missing or unexpected")
    if header["kind"] not in KINDS:
        raise EnvelopeProblem("header.kind", f"must be one of {', '.join(KINDS)}")
    for name in ("first_seq", "last_seq", "count", "payload_size"):
        if not isinstance(header[name], int) or isinstance(header[name], bool) or header[name] < 0:
            raise EnvelopeProblem(f"header.{name}", "must be a whole number, zero or more")
    for name in ("station", "key_id", "nonce", "station_time", "payload_sha256"):
        if not isinstance(header[name], str):
            raise EnvelopeProblem(f"header.{name}", "must be text")
    if not isinstance(header["body"], dict):
        raise EnvelopeProblem("header.body", "must be an object")
    return Envelope(
        header=header,
        signature=blob[end : end + SIGNATURE_SIZE],
        signed=blob[:end],
        payload=blob[end + SIGNATURE_SIZE :],
        digest=hashlib.sha256(blob).hexdigest(),
    )


def verify(envelope: Envelope, public: Ed25519PublicKey) -> None:
    """The signature over the header, then the payload against the header's digest: any changed byte fails."""
    try:
        public.verify(envelope.signature, envelope.signed)
    except InvalidSignature:
        raise EnvelopeProblem("signature", "does not verify with the station's key (tampered or another key)") from None
    if len(envelope.payload) != envelope.header["payload_size"]:
        raise EnvelopeProblem("payload", "size differs from the signed header (truncated or extended)")
    if hashlib.sha256(envelope.payload).hexdigest() != envelope.header["payload_sha256"]:
        raise EnvelopeProblem("payload", "digest differs from the signed header (tampered)")


def station_time(envelope: Envelope) -> datetime:
    try:
        when = datetime.fromisoformat(str(envelope.header["station_time"]))
    except ValueError:
        raise EnvelopeProblem("header.station_time", "not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise EnvelopeProblem("header.station_time", "has no time zone")
    return when.astimezone(UTC)


def items(envelope: Envelope, *, limit: int = MAX_PAYLOAD) -> list[dict[str, object]]:
    """The payload's JSON lines (after ``verify``), decompressed with a ceiling against gzip bombs."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(envelope.payload)) as stream:
            raw = stream.read(limit + 1)
    except (OSError, EOFError):
        raise EnvelopeProblem("payload", "not gzip data") from None
    if len(raw) > limit:
        raise EnvelopeProblem("payload", f"larger than {limit} bytes once decompressed")
    out: list[dict[str, object]] = []
    for number, line in enumerate(raw.split(b"\n") if raw else [], start=1):
        try:
            item = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise EnvelopeProblem(f"payload line {number}", "not JSON") from None
        if not isinstance(item, dict):
            raise EnvelopeProblem(f"payload line {number}", "must be an object")
        out.append(item)
    if len(out) != envelope.header["count"]:
        raise EnvelopeProblem("header.count", f"says {envelope.header['count']} items, the payload has {len(out)}")
    return out
