"""MRZ parsing against the ICAO Doc 9303 specimens, every check digit corrupted in turn, and the `mrz` package
(an independent implementation) as a cross-check."""

import json
import subprocess
import sys
from datetime import date

import pytest
from mrz.checker.mrva import MRVACodeChecker
from mrz.checker.mrvb import MRVBCodeChecker
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td2 import TD2CodeChecker
from mrz.checker.td3 import TD3CodeChecker

from travesia.enrolment.mrz import MrzFormatError, check_digit, parse
from travesia.enrolment.mrz_names import name_matches, transliterate

# ICAO Doc 9303 specimens: Part 4 (TD3), Part 5 (TD1), Part 6 (TD2), Part 7 (MRV-A, MRV-B).
SPECIMENS = {
    "TD3": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    "TD1": "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    "TD2": "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
    "MRVA": "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    "MRVB": "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<",
}
REFERENCE = {
    "TD1": TD1CodeChecker,
    "TD2": TD2CodeChecker,
    "TD3": TD3CodeChecker,
    "MRVA": MRVACodeChecker,
    "MRVB": MRVBCodeChecker,
}

# (format, line index, column of the check digit, field named in the error)
CHECK_DIGITS = [
    ("TD3", 1, 9, "document_number"),
    ("TD3", 1, 19, "birth_date"),
    ("TD3", 1, 27, "expiry_date"),
    ("TD3", 1, 42, "personal_number"),
    ("TD3", 1, 43, "composite"),
    ("TD1", 0, 14, "document_number"),
    ("TD1", 1, 6, "birth_date"),
    ("TD1", 1, 14, "expiry_date"),
    ("TD1", 1, 29, "composite"),
    ("TD2", 1, 9, "document_number"),
    ("TD2", 1, 19, "birth_date"),
    ("TD2", 1, 27, "expiry_date"),
    ("TD2", 1, 35, "composite"),
    ("MRVA", 1, 9, "document_number"),
    ("MRVA", 1, 19, "birth_date"),
    ("MRVA", 1, 27, "expiry_date"),
    ("MRVB", 1, 9, "document_number"),
    ("MRVB", 1, 19, "birth_date"),
    ("MRVB", 1, 27, "expiry_date"),
]


def corrupt(zone: str, line: int, column: int) -> str:
    lines = zone.split("\n")
    digit = lines[line][column]
    lines[line] = lines[line][:column] + str((int(digit) + 1) % 10) + lines[line][column + 1 :]
    return "\n".join(lines)


@pytest.mark.parametrize("kind", SPECIMENS)
def test_specimens_are_valid(kind):
    zone = parse(SPECIMENS[kind], today=date(2026, 11, 22))
    assert zone.valid, zone.problems
    assert zone.format == kind
    assert (zone.surnames, zone.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert zone.issuing_state == "UTO" and zone.sex == "F"
    assert bool(REFERENCE[kind](SPECIMENS[kind]))  # the independent implementation agrees


def test_specimen_fields():
    td3 = parse(SPECIMENS["TD3"], today=date(2026, 11, 22))
    assert td3.document_number == "L898902C3" and td3.nationality == "UTO"
    assert td3.birth_date == date(1974, 8, 12) and td3.expiry_date == date(2012, 4, 15)
    assert td3.optional_data == "ZE184226B" and td3.document_type == "passport"
    visa = parse(SPECIMENS["MRVA"], today=date(2026, 11, 22))
    assert (
        visa.document_type == "visa" and visa.birth_date == date(1940, 9, 7) and visa.expiry_date == date(1996, 12, 10)
    )


@pytest.mark.parametrize(("kind", "line", "column", "field"), CHECK_DIGITS)
def test_each_corrupted_check_digit_is_named(kind, line, column, field):
    zone = corrupt(SPECIMENS[kind], line, column)
    result = parse(zone, today=date(2026, 11, 22))
    named = [(p.line, p.field) for p in result.problems]
    assert (line + 1, field) in named, result.problems
    assert "check digit" in str(result.problems[0])
    assert not bool(REFERENCE[kind](zone))  # the reference also rejects it


def test_corrupted_data_fails_its_check_and_the_composite():
    lines = SPECIMENS["TD3"].split("\n")
    lines[1] = lines[1][:13] + "750812" + lines[1][19:]  # birth year changed, its check digit left alone
    result = parse("\n".join(lines), today=date(2026, 11, 22))
    assert {p.field for p in result.problems} == {"birth_date", "composite"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("P<UTOERIKSSON<<ANNA", "is not a TD1"),
        (SPECIMENS["TD3"].replace("ERIKSSON", "ERIKSSØN"), "characters not allowed"),
    ],
)
def test_not_a_zone(text, message):
    with pytest.raises(MrzFormatError, match=message):
        parse(text)


def test_lowercase_spaces_and_one_line_input_are_tolerated():
    messy = SPECIMENS["TD3"].lower().replace("\n", "")
    assert parse(messy, today=date(2026, 11, 22)).valid


def test_check_digit_examples():
    assert check_digit("L898902C3") == "6" and check_digit("740812") == "2" and check_digit("<<<<") == "0"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Müller", "MUELLER"),
        ("Ñañez Gómez", "NANEZ<GOMEZ"),
        ("Дмитрий", "DMITRII"),
        ("Щукин", "SHCHUKIN"),
        ("O'Brien", "OBRIEN"),
        ("Jean-Pierre", "JEAN<PIERRE"),
        ("Søren", "SOEREN"),
    ],
)
def test_icao_transliteration(typed, zone):
    assert transliterate(typed) == zone


def test_name_matches_allows_truncation_only():
    assert name_matches("Anna María", "ANNA MARIA")
    assert name_matches("Maximiliano Alejandro", "MAXIMILIANO ALEJ")  # truncated in the zone
    assert not name_matches("Ana María", "ANNA MARIA")


@pytest.mark.slow
def test_cli_prints_json_or_errors(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(SPECIMENS["TD1"])
    ok = subprocess.run(
        [sys.executable, "-m", "travesia.cli", "mrz", "check", str(good)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["document_number"] == "D23145890"
    bad = subprocess.run(
        [sys.executable, "-m", "travesia.cli", "mrz", "check", "-"],
        input=corrupt(SPECIMENS["TD3"], 1, 19),
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "line 2, birth_date: the check digit" in bad.stderr
