"""Machine-readable zones of ICAO Doc 9303 (8th ed.): TD1, TD2, TD3, MRV-A and MRV-B and every check digit (the
names' transliteration of Part 3, and writing a zone, are in mrz_names).

Written here because the one PyPI package for this (`mrz` 0.6.2) has had no release since 2020 and reports a failed
check without the line it sits on; the tests check this parser against that package and the ICAO specimens.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date

from travesia.core.errors import N_

FILLER = "<"
CHARSET = re.compile(r"^[A-Z0-9<]+$")
WEIGHTS = (7, 3, 1)


def check_digit(data: str) -> str:
    """ICAO 9303 Part 3 §4.9: weights 7-3-1, digits as themselves, A-Z as 10-35, filler as 0."""
    total = 0
    for index, char in enumerate(data):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - 55
        else:
            value = 0
        total += value * WEIGHTS[index % 3]
    return str(total % 10)


# The zone's fields as its problems name them, in words for the officer.
FIELD_LABELS = {
    "mrz": N_("the zone"),
    "birth_date": N_("date of birth"),
    "composite": N_("composite check digit"),
    "document_number": N_("document number"),
    "expiry_date": N_("expiry date"),
    "personal_number": N_("personal number"),
    "sex": N_("sex"),
}


@dataclass(frozen=True)
class MrzProblem:
    line: int  # 1-based; 0 for the zone as a whole
    field: str
    message: str  # a msgid (N_), filled with params
    params: dict[str, object] = dataclass_field(default_factory=dict)

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.field}: {self.message % self.params if self.params else self.message}"

    def translated(self, translate: Callable[..., str]) -> str:
        """The problem in the reader's language: where (line and field, in words) and what."""
        what = translate(self.message, **self.params)
        name = translate(FIELD_LABELS.get(self.field, self.field))
        if self.line:
            return translate(N_("Line %(line)s, %(field)s: %(problem)s"), line=self.line, field=name, problem=what)
        return translate(N_("%(field)s: %(problem)s"), field=name, problem=what)


def described(problems: list[MrzProblem], translate: Callable[..., str]) -> str:
    return "; ".join(p.translated(translate) for p in problems)


@dataclass
class Mrz:
    format: str  # TD1, TD2, TD3, MRVA, MRVB
    document_code: str
    issuing_state: str
    document_number: str
    surnames: str
    given_names: str
    nationality: str
    birth_date: date | None
    birth_raw: str
    sex: str  # F, M or X (the zone's '<' is unspecified)
    expiry_date: date | None
    optional_data: str
    problems: list[MrzProblem] = dataclass_field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def document_type(self) -> str:
        if self.format in ("MRVA", "MRVB"):
            return "visa"
        return "passport" if self.document_code.startswith("P") else "id_card"

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "document_type": self.document_type,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "surnames": self.surnames,
            "given_names": self.given_names,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "optional_data": self.optional_data,
            "valid": self.valid,
            "problems": [str(p) for p in self.problems],
        }


class MrzFormatError(ValueError):
    """The text is not a machine-readable zone at all (wrong shape or characters)."""

    def __init__(self, problems: list[MrzProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# (format, lines, width) -> the line layouts, as (line, field, start, end) slices and (field, data slices, cd slot)
SHAPES = {(3, 30): "TD1", (2, 36): "TD2", (2, 44): "TD3"}


def normalise_lines(text: str) -> list[str]:
    lines = [line.strip().replace(" ", "").upper() for line in text.strip().splitlines() if line.strip()]
    # Some readers emit the zone as one long line.
    if len(lines) == 1 and len(lines[0]) in (90, 72, 88):
        width = {90: 30, 72: 36, 88: 44}[len(lines[0])]
        lines = [lines[0][i : i + width] for i in range(0, len(lines[0]), width)]
    return lines


def parse(text: str, *, today: date | None = None) -> Mrz:
    """Parse and check a zone. Raises MrzFormatError if it is not one; check-digit and field problems are listed
    in ``Mrz.problems`` with the line and field they concern."""
    lines = normalise_lines(text)
    shape_problems = _shape_problems(lines)
    if shape_problems:
        raise MrzFormatError(shape_problems)
    kind = SHAPES[(len(lines), len(lines[0]))]
    if kind in ("TD2", "TD3") and lines[0][0] == "V":
        kind = "MRVB" if kind == "TD2" else "MRVA"
    today = today or date.today()
    return {"TD1": _td1, "TD2": _td2, "TD3": _td3, "MRVA": _mrv, "MRVB": _mrv}[kind](lines, kind, today)


def _shape_problems(lines: list[str]) -> list[MrzProblem]:
    if not lines:
        return [MrzProblem(0, "mrz", N_("it is empty"))]
    widths = {len(line) for line in lines}
    if len(widths) != 1 or (len(lines), len(lines[0])) not in SHAPES:
        shape = " + ".join(str(len(line)) for line in lines)
        return [
            MrzProblem(
                0,
                "mrz",
                N_("%(lines)s lines of %(shape)s characters is not a TD1 (3×30), TD2 (2×36) or TD3/MRV (2×44) zone"),
                {"lines": len(lines), "shape": shape},
            )
        ]
    problems = []
    for number, line in enumerate(lines, 1):
        if not CHARSET.match(line):
            bad = sorted({c for c in line if not (c.isdigit() or "A" <= c <= "Z" or c == FILLER)})
            problems.append(
                MrzProblem(number, "mrz", N_("characters not allowed in a zone: %(bad)s"), {"bad": " ".join(bad)})
            )
    return problems


def _check(problems: list[MrzProblem], line: int, name: str, data: str, digit: str, *, optional: bool = False) -> None:
    if optional and digit == FILLER and set(data) <= {FILLER}:
        return
    if not digit.isdigit():
        problems.append(MrzProblem(line, name, N_("the check digit %(digit)s is not a digit"), {"digit": digit}))
        return
    expected = check_digit(data)
    if digit != expected:
        problems.append(
            MrzProblem(
                line, name, N_("the check digit %(digit)s does not match (expected %(expected)s)"),
                {"digit": digit, "expected": expected},
            )
        )  # fmt: skip


def _names(raw: str) -> tuple[str, str]:
    primary, _, secondary = raw.strip(FILLER).partition(FILLER * 2)
    return primary.replace(FILLER, " ").strip(), secondary.replace(FILLER, " ").strip()


def _date(problems: list[MrzProblem], line: int, name: str, raw: str, *, today: date, future: bool) -> date | None:
    if not raw.isdigit():
        if set(raw) <= {FILLER} or "<" in raw:
            return None  # unknown parts of a date are written with fillers (e.g. birth day unknown)
        problems.append(MrzProblem(line, name, N_("%(raw)s is not a date (YYMMDD)"), {"raw": raw}))
        return None
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:6])
    if future:  # expiry: this century unless that is implausibly far ahead (old visas, specimens)
        year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    else:
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        return date(year, mm, dd)
    except ValueError:
        problems.append(MrzProblem(line, name, N_("%(raw)s is not a valid calendar date"), {"raw": raw}))
        return None


def _sex(problems: list[MrzProblem], line: int, raw: str) -> str:
    if raw in ("F", "M"):
        return raw
    if raw in (FILLER, "X"):
        return "X"
    problems.append(MrzProblem(line, "sex", N_("%(raw)s is not F, M or <"), {"raw": raw}))
    return "X"


def _number(raw: str) -> str:
    return raw.replace(FILLER, "")


def _td1(lines: list[str], kind: str, today: date) -> Mrz:
    l1, l2, l3 = lines
    problems: list[MrzProblem] = []
    number, optional1 = l1[5:14], l1[15:30]
    if l1[14] == FILLER and optional1[0] != FILLER:
        # Long document number (Part 5 §4.2.2): the rest and its check digit continue in optional data 1.
        tail = optional1.split(FILLER)[0]
        number, digit = number + tail[:-1], tail[-1]
        optional1 = optional1[len(tail) :]
        _check(problems, 1, "document_number", number, digit)
    else:
        _check(problems, 1, "document_number", number, l1[14])
    _check(problems, 2, "birth_date", l2[0:6], l2[6])
    _check(problems, 2, "expiry_date", l2[8:14], l2[14])
    _check(problems, 2, "composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    surnames, given = _names(l3)
    return Mrz(
        format=kind,
        document_code=l1[0:2].strip(FILLER),
        issuing_state=l1[2:5].strip(FILLER),
        document_number=_number(number),
        surnames=surnames,
        given_names=given,
        nationality=l2[15:18].strip(FILLER),
        birth_raw=l2[0:6],
        birth_date=_date(problems, 2, "birth_date", l2[0:6], today=today, future=False),
        sex=_sex(problems, 2, l2[7]),
        expiry_date=_date(problems, 2, "expiry_date", l2[8:14], today=today, future=True),
        optional_data=(optional1 + l2[18:29]).strip(FILLER),
        problems=problems,
    )


def _td2(lines: list[str], kind: str, today: date) -> Mrz:
    l2 = lines[1]
    problems: list[MrzProblem] = []
    _check(problems, 2, "document_number", l2[0:9], l2[9])
    _check(problems, 2, "birth_date", l2[13:19], l2[19])
    _check(problems, 2, "expiry_date", l2[21:27], l2[27])
    _check(problems, 2, "composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    return _two_line(lines, kind, today, problems, optional=l2[28:35])


def _td3(lines: list[str], kind: str, today: date) -> Mrz:
    l2 = lines[1]
    problems: list[MrzProblem] = []
    _check(problems, 2, "document_number", l2[0:9], l2[9])
    _check(problems, 2, "birth_date", l2[13:19], l2[19])
    _check(problems, 2, "expiry_date", l2[21:27], l2[27])
    _check(problems, 2, "personal_number", l2[28:42], l2[42], optional=True)
    _check(problems, 2, "composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    return _two_line(lines, kind, today, problems, optional=l2[28:42])


def _mrv(lines: list[str], kind: str, today: date) -> Mrz:
    l2 = lines[1]
    problems: list[MrzProblem] = []
    _check(problems, 2, "document_number", l2[0:9], l2[9])
    _check(problems, 2, "birth_date", l2[13:19], l2[19])
    _check(problems, 2, "expiry_date", l2[21:27], l2[27])
    return _two_line(lines, kind, today, problems, optional=l2[28:])


def _two_line(lines: list[str], kind: str, today: date, problems: list[MrzProblem], optional: str) -> Mrz:
    l1, l2 = lines
    surnames, given = _names(l1[5:])
    return Mrz(
        format=kind,
        document_code=l1[0:2].strip(FILLER),
        issuing_state=l1[2:5].strip(FILLER),
        document_number=_number(l2[0:9]),
        surnames=surnames,
        given_names=given,
        nationality=l2[10:13].strip(FILLER),
        birth_raw=l2[13:19],
        birth_date=_date(problems, 2, "birth_date", l2[13:19], today=today, future=False),
        sex=_sex(problems, 2, l2[20]),
        expiry_date=_date(problems, 2, "expiry_date", l2[21:27], today=today, future=True),
        optional_data=optional.strip(FILLER),
        problems=problems,
    )
