import pytest

from travesia.core.crypto import DecryptionError, Keyring

OLD = b"o" * 32
NEW = b"n" * 32


def test_round_trip_and_context_binding():
    ring = Keyring({"k1": OLD})
    blob = ring.encrypt(b"JBSWY3DPEHPK3PXP", context=b"totp:alice")
    assert b"JBSWY3DP" not in blob
    assert ring.decrypt(blob, context=b"totp:alice") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(DecryptionError):
        ring.decrypt(blob, context=b"totp:bob")  # moved to another row


def test_a_changed_byte_is_refused():
    ring = Keyring({"k1": OLD})
    blob = bytearray(ring.encrypt(b"secret", context=b"c"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(blob), context=b"c")


def test_rotation_encrypts_with_the_first_key_and_still_reads_the_old():
    old_blob = Keyring({"k1": OLD}).encrypt(b"x", context=b"c")
    rotated = Keyring({"k2": NEW, "k1": OLD})
    assert rotated.decrypt(old_blob, context=b"c") == b"x"
    assert Keyring.key_id_of(rotated.encrypt(b"x", context=b"c")) == "k2"
    with pytest.raises(DecryptionError, match="not in the keyring"):
        Keyring({"k2": NEW}).decrypt(old_blob, context=b"c")
