"""Field encryption with AES-256-GCM and named keys, so keys can be rotated without downtime.

Ciphertext layout: b"TRV1" | key id length (1 byte) | key id | 12-byte nonce | ciphertext+tag. The
associated data binds a ciphertext to its purpose (e.g. b"totp:<user id>"), so a value cannot be moved
between rows or columns unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"TRV1"


class DecryptionError(Exception):
    """Ciphertext was altered, bound to another purpose, or made with a key we do not hold."""


class Keyring:
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = dict(keys)
        self.active_id = next(iter(keys))

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        key_id = self.active_id.encode()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._keys[self.active_id]).encrypt(nonce, plaintext, context)
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
            raise DecryptionError("not a Travesía ciphertext")
        id_len = blob[len(MAGIC)]
        start = len(MAGIC) + 1
        key_id = blob[start : start + id_len].decode(errors="replace")
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"key {key_id!r} is not in the keyring")
        nonce = blob[start + id_len : start + id_len + 12]
        try:
            return AESGCM(key).decrypt(nonce, blob[start + id_len + 12 :], context)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not authenticate") from exc

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        id_len = blob[len(MAGIC)]
        return blob[len(MAGIC) + 1 : len(MAGIC) + 1 + id_len].decode()


def keyed_digest(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of a value for lookups and counters that must not store the value itself."""
    return hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy bearer secret (session or API token): what the database stores."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- Ed25519 signing keys (safe-conduct passes, station sync batches) ---------------------------------------------
def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key: how documents name the key that signed them."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in PEM beside the database (created once, readable by the owner only). Two processes
    starting at once (a web process and its worker) end up with the same key: the file appears whole or not at all."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.link(temporary, path)  # fails if another process's key got there first: that one is used
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
