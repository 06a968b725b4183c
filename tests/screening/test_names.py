"""Name and date comparison for the cases of this flow (pure, no database)."""

import pytest

from travesia.screening import names, scoring
from travesia.screening.formats import claimed_record


def similarity(a: str, b: str) -> float:
    return names.compare(names.analyse(a), names.analyse(b)).score


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("习近平", "Xi Jinping"),  # unsegmented Chinese (logic-v2: 0.0)
        ("王伟", "Wang Wei"),
        ("Jean Pierre", "Jan Pyè"),  # Haitian Creole spelling (logic-v2: 0.40)
        ("Ivan Petrov", "Иван Петров"),  # Cyrillic
        ("Rahul Kumar", "राहुल कुमार"),  # Devanagari
        ("José Pérez Núñez", "Jose Nunez Perez"),  # Spanish surnames in the other order
        ("María de la Cruz", "Maria Cruz"),  # particles
    ],
)
def test_same_name_across_scripts_and_orders_scores_as_exact(a, b):
    assert similarity(a, b) >= 0.97


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Youssef", "Yusuf"),  # phonetic spelling (logic-v2: 0.38)
        ("Mohammed Al-Rashid", "محمد الرشيد"),  # Arabic without short vowels, article
        ("Maryam Ahmadi", "مریم احمدی"),  # Persian
        ("Daniela Rodríguez", "Daneila Rodriguez"),  # transposed letters
    ],
)
def test_variant_spellings_score_strong(a, b):
    assert 0.9 <= similarity(a, b) < 1.0


def test_one_surname_missing_costs_little_and_a_different_surname_costs_a_lot():
    missing = similarity("José Gregorio Pérez Núñez", "José Gregorio Pérez")
    different = similarity("José Gregorio Pérez Núñez", "José Gregorio Martínez Núñez")
    other_person = similarity("Ana García", "Ana Martínez")
    assert missing >= 0.82
    assert different < missing
    assert scoring.name_level(other_person) in ("partial", "weak")


def record(name: str, born: str, estimated: bool = False) -> scoring.Record:
    return claimed_record("q", name, "", birth_date=born, birth_estimated=estimated)


@pytest.mark.parametrize(
    ("query", "entry", "level"),
    [
        (record("A", "1980-03-04"), record("A", "1980-03-04"), "same_date"),
        (record("A", "1980-03-04"), record("A", "1980-04-03"), "day_month_swapped"),
        (record("A", "1981", estimated=True), record("A", "1980-03-04"), "year_near"),
        (record("A", "1980-03-04"), record("A", "1980"), "year_known_same"),
        (record("A", "1980", estimated=True), record("A", "1980-03-04"), "same_year"),
        (record("A", "1981-03-04"), record("A", "1980-03-04"), "year_slip"),
        (record("A", "1984"), record("A", "1981-03-04"), "year_known_different"),
        (record("A", "1980-03-04"), record("A", "1975-03-04"), "different"),
    ],
)
def test_birth_date_levels(query, entry, level):
    assert scoring.birth_level(query, entry)[0] == level


def test_an_estimated_year_one_off_is_evidence_for_not_against():
    model = scoring.default_model()
    assert model.bits("birth", "year_near") > 0 > model.bits("birth", "different")
    assert model.bits("birth", "year_known_same") > model.bits("birth", "same_year") > 0


def test_explanation_names_every_field_and_adds_up():
    query = claimed_record("q", "Youssef", "Haddad", sex="M", birth_date="1985-06-01", nationality="SYR")
    entry = scoring.Record("e", ("Yusuf Hadad", "يوسف حداد"), ("1985-06-01",), nationalities=("SYR",), sex="M")
    face = {"feature": "face", "level": "very_strong_for", "bits": 11.5, "detail": ""}  # the biometric step's term
    scored = scoring.score(query, entry, biometric=[face])
    features = [t.feature for t in scored.terms]
    # the list's own Latin spelling is the witness, not its Arabic alias
    assert features == ["name", "birth", "nationality", "sex", "document", "face"]
    assert scored.terms[0].candidate == "Yusuf Hadad"
    assert (scored.terms[-1].level, scored.terms[-1].bits) == ("very_strong_for", 11.5)  # added as it came
    assert abs(sum(t.bits for t in scored.terms) - scored.bits) < 0.01
    assert scored.probability > 0.99
    stranger = scoring.Record("x", ("Omar Nasser",), ("1960",), nationalities=("SYR",), sex="M")
    assert scoring.score(query, stranger).probability < 0.01
    # a namesake sharing one word, whose Arabic alias the cross-script model would forgive: the Latin name decides
    other = scoring.Record("o", ("Youssef Mansour", "يوسف منصور"), ("1985-06-01",), nationalities=("SYR",), sex="M")
    assert scoring.score(query, other).terms[0].level == "weak"
    assert scoring.score(query, other).probability < 0.5
