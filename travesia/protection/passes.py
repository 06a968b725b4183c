"""Safe-conduct passes, signed with Ed25519 and verifiable offline: pure functions over keys and bytes.

A pass token is ``TRV1.<payload>.<signature>`` (base64url, no padding): the payload is canonical JSON with the pass
number, key id, validity, route and destination codes, and a minimal identity check (initials and birth year, so
that a reader compares the holder with the printed photo and name without the QR carrying a name). The revocation
list is the same kind of signed document. Anyone with the public key verifies both: no server, no database.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from travesia.core.crypto import key_id
from travesia.core.errors import N_

PREFIX = "TRV1"
REVOCATION_PREFIX = "TRVR1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def load_public_keys(pem_text: str) -> dict[str, Ed25519PublicKey]:
    """One or more PEM public keys (old keys stay valid for the passes they signed) → {key id: key}."""
    keys = {}
    for block in pem_text.split("-----END PUBLIC KEY-----"):
        if "-----BEGIN PUBLIC KEY-----" in block:
            key = serialization.load_pem_public_key((block + "-----END PUBLIC KEY-----\n").strip().encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            keys[key_id(key)] = key
    if not keys:
        raise ValueError("no public key found")
    return keys


def sign(payload: dict[str, object], key: Ed25519PrivateKey, prefix: str = PREFIX) -> str:
    body = canonical({**payload, "k": key_id(key.public_key())})
    return f"{prefix}.{_b64(body)}.{_b64(key.sign(prefix.encode() + b'.' + body))}"


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str  # ok, malformed, unknown_key, bad_signature, not_yet_valid, expired, revoked
    payload: dict[str, object]


# What a verifier reads for each reason (the code stays in logs and the API).
VERDICT_LABELS = {
    "malformed": N_("the code is damaged or is not a safe-conduct pass"),
    "unknown_key": N_("signed with a key this authority does not use"),
    "bad_signature": N_("the signature does not match: the pass was changed or forged"),
    "not_yet_valid": N_("not valid yet"),
    "expired": N_("expired"),
    "revoked": N_("revoked"),
}


def _open(token: str, keys: dict[str, Ed25519PublicKey], prefix: str) -> Verdict:
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != prefix:
        return Verdict(False, "malformed", {})
    try:
        body, signature = _unb64(parts[1]), _unb64(parts[2])
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Verdict(False, "malformed", {})
    if not isinstance(payload, dict):
        return Verdict(False, "malformed", {})
    key = keys.get(str(payload.get("k")))
    if key is None:
        return Verdict(False, "unknown_key", payload)
    try:
        key.verify(signature, prefix.encode() + b"." + body)
    except InvalidSignature:
        return Verdict(False, "bad_signature", payload)
    return Verdict(True, "ok", payload)


def revocation_list(pass_ids: list[str], issued_on: date, key: Ed25519PrivateKey) -> str:
    return sign({"revoked": sorted(pass_ids), "issued": issued_on.isoformat()}, key, REVOCATION_PREFIX)


def read_revocations(document: str, keys: dict[str, Ed25519PublicKey]) -> set[str]:
    """The revoked pass numbers of a signed list; a list whose signature fails is refused, never half-read."""
    verdict = _open(document, keys, REVOCATION_PREFIX)
    if not verdict.valid:
        raise ValueError(f"the revocation list does not verify: {verdict.reason}")
    return {str(p) for p in verdict.payload.get("revoked", [])}  # type: ignore[union-attr]


def verify(token: str, keys: dict[str, Ed25519PublicKey], revoked: set[str], today: date) -> Verdict:
    verdict = _open(token, keys, PREFIX)
    if not verdict.valid:
        return verdict
    payload = verdict.payload
    try:
        valid_from, valid_until = date.fromisoformat(str(payload["f"])), date.fromisoformat(str(payload["u"]))
    except (KeyError, ValueError):
        return Verdict(False, "malformed", payload)
    if str(payload.get("n")) in revoked:
        return Verdict(False, "revoked", payload)
    if today < valid_from:
        return Verdict(False, "not_yet_valid", payload)
    if today > valid_until:
        return Verdict(False, "expired", payload)
    return verdict
