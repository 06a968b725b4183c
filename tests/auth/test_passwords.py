import pytest

from travesia.auth.passwords import Hasher, password_problems


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 15"),
        ("passwordpassword", "repeated or sequential"),
        ("password12345678", "too common"),
        ("aaaaaaaaaaaaaaaaaaaa", "repeated or sequential"),
        ("abcdefghijklmnopq", "repeated or sequential"),
        ("maria.rios is my secret login", "user name"),
        ("x" * 129, "at most 128"),
    ],
)
def test_rules(password, problem):
    problems = password_problems(password, context_words=("maria.rios", "Maria", "Rios"))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tres tristes tigres comen trigo", "ñandú selva 2026 río"]
)
def test_passphrases_without_composition_rules_pass(password):
    assert password_problems(password, context_words=("maria.rios",)) == []


def test_hash_verify_and_unicode_normalisation():
    hasher = Hasher(1, 1024)
    stored = hasher.hash("café con leche y pan")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "cafe\u0301 con leche y pan")  # NFKC: the same text typed another way
    assert not hasher.verify(stored, "café con leche y pan!")
    assert not hasher.verify(None, "anything at all here")  # unknown account, same work done
