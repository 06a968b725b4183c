"""Password rules after NIST SP 800-63B (rev. 4): length, a blocklist of common and breached passwords,
context words; no composition rules, no periodic expiry. Hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from travesia.core.errors import N_

MIN_LENGTH = 15  # SP 800-63B-4 §3.1.1.2: at least 15 when the password is the only factor
MAX_LENGTH = 128  # at least 64 must be allowed; the cap stops hashing megabytes


@lru_cache(maxsize=1)
def blocklist() -> frozenset[str]:
    """30,000 most common passwords from breach corpora, as shipped in the zxcvbn package (MIT)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def password_problems(password: str, *, context_words: tuple[str, ...] = ()) -> list[str]:
    """Messages (translatable msgids) for every rule the password breaks; empty when it is acceptable."""
    pw = normalise(password)
    problems: list[str] = []
    if len(pw) < MIN_LENGTH:
        problems.append(N_("Use at least 15 characters; a few unrelated words make a good passphrase."))
    if len(pw) > MAX_LENGTH:
        problems.append(N_("Use at most 128 characters."))
    lowered = pw.lower()
    core = re.sub(r"[\W\d_]+$", "", re.sub(r"^[\W\d_]+", "", lowered))
    if lowered in blocklist() or (core and core in blocklist() and len(core) >= len(lowered) / 2):
        problems.append(N_("This password is too common or has appeared in data breaches."))
    if len(set(lowered)) <= 3 or _is_sequence(lowered) or _is_repetition(lowered):
        problems.append(N_("Avoid repeated or sequential characters."))
    for word in context_words:
        word = word.lower().strip()
        if len(word) >= 4 and word in lowered:
            problems.append(N_("Do not use your user name, your name or the service's name in the password."))
            break
    return problems


def _is_repetition(text: str) -> bool:
    """'passwordpassword', 'abcabcabcabc': one short chunk repeated adds no strength."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, len(text) // 2 + 1)
    )


def _is_sequence(text: str) -> bool:
    if len(text) < 4:
        return False
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return steps <= {1} or steps <= {-1}


class Hasher:
    """Argon2id with settings-controlled cost (RFC 9106's second recommended profile by default)."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=2)
        # Verified against when the account does not exist, so timing does not reveal which names exist.
        self._dummy = self._ph.hash("travesia-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._ph.hash(normalise(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._ph.verify(stored_hash or self._dummy, normalise(password)) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._ph.check_needs_rehash(stored_hash)
