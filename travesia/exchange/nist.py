"""ANSI/NIST-ITL 1-2011 Update 2015 (version 0502), traditional binary encoding, with nistitl (pure Python, MIT):
pure functions from person records to a transaction and back, with every field of an incoming file checked.

One transaction carries one or more persons: a Type-2 record per person (IDC n) and that person's Type-10 (face)
and Type-14 (fingerprint) records with the same IDC. The Type-2 fields follow the FBI's EBTS numbering where one
exists (2.018 NAM, 2.020 POB, 2.021 CTZ, 2.022 DOB, 2.024 SEX) and Travesía's own user-defined fields 2.9xx for the
rest, declared in the Type-1 domain (1.013 "TRAVESIA" version "1.0"); docs/exchange.md has the table.
Countries are ISO 3166-1 alpha-3 (EBTS's own code table is not used), dates YYYYMMDD with 00 for an unknown month
or day (as EBTS writes partial dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from nistitl import AsciiRecord, BinaryField, Field, Message, SubField

from travesia.core.images import ImageRefused, opened
from travesia.enrolment import slaps
from travesia.exchange.records import DocumentRef, Image, PersonRecord

VERSION = "0502"  # ANSI/NIST-ITL 1-2011 Update 2015
DOMAIN = ("TRAVESIA", "1.0")
FACE_COMPRESSION = {"jpeg": "JPEGB", "png": "PNG"}
FINGER_COMPRESSION = {"wsq": "WSQ20", "png": "PNG", "jpeg": "JPEGB"}
COMPRESSION_FORMAT = {"JPEGB": "jpeg", "PNG": "png", "WSQ20": "wsq"}
PILLOW_FORMAT = {"jpeg": "JPEG", "png": "PNG", "wsq": "WSQ"}
COUNTRY = re.compile(r"^[A-Z]{3}$")
SEXES = {"M": "M", "F": "F", "X": "X", "U": None}  # EBTS: U = unknown

# Type-2 field numbers
NAM, POB, CTZ, DOB, SEX = 18, 20, 21, 22, 24
REF, DOCS, PHONE, LANGS, ROUTE, STATION, REGISTERED = 901, 905, 906, 907, 908, 909, 910
# Type-14 field numbers
AMP = 18  # fingers amputated (XX) or unable to print (UP), subfields FGP␟code


class NistProblem(Exception):
    """A file that cannot be taken: which record (type and IDC) and which field, and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass(frozen=True)
class Transaction:
    agency: str  # 1.008 ORI: who sent it
    control: str  # 1.009 TCN
    sent_on: str  # 1.005 DAT, YYYYMMDD
    persons: list[PersonRecord]


# -- writing -----------------------------------------------------------------------------------------------------
def encode(persons: list[PersonRecord], *, agency: str, control: str, destination: str, today: date) -> bytes:
    message = Message()
    header = message[0]
    header.VER = VERSION
    header.TOT = "TRV"
    header.DAT = today.strftime("%Y%m%d")
    header.ORI = agency
    header.DAI = destination
    header.TCN = control
    domain = Field(1, 13, "")
    domain.add_subfields(SubField(list(DOMAIN)))
    header += domain
    for idc, person in enumerate(persons, start=1):
        message += _type2(person, idc)
        if person.face is not None:
            message += _image_record(10, idc, person.face, agency, today, FACE_COMPRESSION)
        for position in sorted(person.fingers):
            message += _image_record(14, idc, person.fingers[position], agency, today, FINGER_COMPRESSION, position)
    return message.NIST


def _type2(person: PersonRecord, idc: int) -> AsciiRecord:
    record = AsciiRecord(2)
    record.IDC = idc
    values: list[tuple[int, str | None]] = [
        (REF, person.ref),
        (NAM, f"{person.surnames},{person.given_names or ''}" if person.surnames is not None else None),
        (POB, person.country_of_birth),
        (CTZ, person.nationality),
        (DOB, _nist_date(person.birth_date) if person.birth_date else None),
        (SEX, person.sex),
        (PHONE, person.phone),
        (STATION, person.station),
        (REGISTERED, person.registered_on.replace("-", "") if person.registered_on else None),
    ]
    for tag, value in values:
        if value:
            record += Field(2, tag, _latin(value))
    for tag, items in ((LANGS, person.languages), (ROUTE, person.route)):
        if items:
            f = Field(2, tag, "")
            for item in items:
                f.add_subfields(SubField(_latin(item)))
            record += f
    if person.documents:
        f = Field(2, DOCS, "")
        for doc in person.documents:
            expiry = doc.expiry_date.replace("-", "") if doc.expiry_date else ""
            f.add_subfields(SubField([_latin(doc.doc_type), _latin(doc.number), doc.issuing_state or "", expiry]))
        record += f
    return record


def _image_record(
    kind: int, idc: int, image: Image, agency: str, today: date, codes: dict[str, str], position: int | None = None
) -> AsciiRecord:
    if image.format not in codes:
        raise NistProblem(f"record {kind} (IDC {idc})", f"images in {image.format} cannot be written here")
    record = AsciiRecord(kind)
    record.IDC = idc
    common = [
        (4, agency),
        (5, today.strftime("%Y%m%d")),
        (6, str(image.width)),
        (7, str(image.height)),
        (11, codes[image.format]),
    ]
    if kind == 10:
        fields = [
            (3, "FACE"),
            *common,
            (8, "0"),
            (9, "1"),
            (10, "1"),
            (12, "SRGB" if image.format == "jpeg" else "GRAY"),
        ]
    else:  # Type-14: 500 ppi, 8 bits, plain live-scan impression
        fields = [(3, "0"), *common, (8, "1"), (9, "500"), (10, "500"), (12, "8"), (13, str(position))]
    for tag, value in sorted(fields):
        record += Field(kind, tag, value)
    record += BinaryField(kind, 999, image.data)
    return record


def _nist_date(value: str) -> str:
    parts = value.split("-")
    return parts[0] + (parts[1] if len(parts) > 1 else "00") + (parts[2] if len(parts) > 2 else "00")


def _latin(value: str) -> str:
    """The traditional encoding is Latin-1: characters outside it are written as '?', and said so in the docs."""
    return value.encode("latin-1", errors="replace").decode("latin-1")


# -- reading -----------------------------------------------------------------------------------------------------
def decode(data: bytes) -> Transaction:
    """Parse and check a transaction field by field; the first problem refuses the whole file, naming it."""
    if not data:
        raise NistProblem("file", "is empty")
    message = Message()
    try:
        message.parse(data)
    except Exception as error:  # the library's parser raises whatever a malformed file trips (TypeError on a
        # missing 1.003 CNT, IndexError, ...): each is a file that is not a transaction, never a crash
        raise NistProblem("file", f"not an ANSI/NIST-ITL transaction ({_short(error)})") from None
    header = message[0]
    version = _text(header[2])
    if version not in ("0500", "0501", "0502"):
        raise NistProblem("record 1 field 1.002 VER", f"version {version!r} is not ANSI/NIST-ITL 1-2011 (0500-0502)")
    sent_on = _text(header[5])
    _check_date("record 1 field 1.005 DAT", sent_on, partial=False)
    agency, control = _text(header[8]), _text(header[9])
    if not agency:
        raise NistProblem("record 1 field 1.008 ORI", "the sending agency is missing")
    persons: dict[int, dict[str, object]] = {}
    for record in message.iter(2):
        idc = _idc(record, 2)
        if idc in persons:
            raise NistProblem(f"record 2 (IDC {idc})", "two Type-2 records with the same IDC")
        persons[idc] = _read_type2(record, idc)
    for kind in (10, 14):
        for record in message.iter(kind):
            idc = _idc(record, kind)
            if idc not in persons:
                raise NistProblem(f"record {kind} (IDC {idc})", "no Type-2 record with this IDC")
            image, position = _read_image(record, kind, idc)
            if kind == 10:
                if persons[idc].get("face") is not None:
                    raise NistProblem(f"record 10 (IDC {idc})", "a second face for the same person")
                persons[idc]["face"] = image
            else:
                fingers: dict[int, Image] = persons[idc].setdefault("fingers", {})  # type: ignore[assignment]
                for finger, cut in _fingers_of(record, idc, image, position).items():  # type: ignore[arg-type]
                    if finger in fingers:
                        raise NistProblem(f"record 14 (IDC {idc}) field 14.013 FGP", f"finger {finger} appears twice")
                    fingers[finger] = cut
    if not persons:
        raise NistProblem("file", "no Type-2 (person) record")
    return Transaction(agency, control, sent_on, [PersonRecord(**persons[i]) for i in sorted(persons)])  # type: ignore[arg-type]


def _read_type2(record: AsciiRecord, idc: int) -> dict[str, object]:
    where = f"record 2 (IDC {idc})"
    ref = _text(record[REF]) or str(idc)
    name = _text(record[NAM])
    if not name or "," not in name:
        raise NistProblem(f"{where} field 2.018 NAM", "write the name as SURNAMES,GIVEN NAMES")
    surnames, _, given = name.partition(",")
    if not surnames.strip():
        raise NistProblem(f"{where} field 2.018 NAM", "the surname is empty")
    out: dict[str, object] = {"ref": ref, "surnames": surnames.strip(), "given_names": given.strip() or None}
    dob = _text(record[DOB])
    if dob:
        out["birth_date"] = _check_date(f"{where} field 2.022 DOB", dob, partial=True)
    sex = _text(record[SEX])
    if sex:
        if sex not in SEXES:
            raise NistProblem(f"{where} field 2.024 SEX", f"{sex!r} is not M, F, X or U")
        out["sex"] = SEXES[sex]
    for tag, key, label in ((CTZ, "nationality", "2.021 CTZ"), (POB, "country_of_birth", "2.020 POB")):
        value = _text(record[tag])
        if value:
            if not COUNTRY.match(value):
                raise NistProblem(f"{where} field {label}", f"{value!r} is not an ISO 3166-1 alpha-3 code")
            out[key] = value
    for tag, key in ((PHONE, "phone"), (STATION, "station")):
        if _text(record[tag]):
            out[key] = _text(record[tag])
    registered = _text(record[REGISTERED])
    if registered:
        out["registered_on"] = _check_date(f"{where} field 2.910", registered, partial=False)
    for tag, key in ((LANGS, "languages"), (ROUTE, "route")):
        if record[tag] is not None:
            out[key] = tuple(items[0] for items in _subfields(record[tag]))
    if record[DOCS] is not None:
        docs = []
        for n, items in enumerate(_subfields(record[DOCS]), start=1):
            if len(items) != 4 or not items[1]:
                raise NistProblem(f"{where} field 2.905 subfield {n}", "a document is type, number, state, expiry")
            expiry = items[3] or None
            if expiry:
                expiry = _check_date(f"{where} field 2.905 subfield {n}", expiry, partial=False)
            docs.append(DocumentRef(items[0], items[1], items[2] or None, expiry))
        out["documents"] = tuple(docs)
    return out


def _read_image(record: AsciiRecord, kind: int, idc: int) -> tuple[Image, int | None]:
    where = f"record {kind} (IDC {idc})"
    if kind == 10 and _text(record[3]) != "FACE":
        raise NistProblem(f"{where} field 10.003 IMT", "only FACE images are taken")
    compression = _text(record[11])
    if compression not in COMPRESSION_FORMAT or (kind == 10 and compression == "WSQ20"):
        raise NistProblem(f"{where} field {kind}.011 CGA", f"compression {compression!r} is not taken")
    width, height = _number(record, kind, 6, "HLL", where), _number(record, kind, 7, "VLL", where)
    position = None
    if kind == 14:
        position = _number(record, kind, 13, "FGP", where)
        if not (1 <= position <= 10 or position in slaps.SLAPS):
            raise NistProblem(f"{where} field 14.013 FGP", f"finger position {position} is not 1-10 or a slap 13-15")
    data = record[999].value if record[999] is not None else b""
    if not data:
        raise NistProblem(f"{where} field {kind}.999 DATA", "the image is missing")
    fmt = COMPRESSION_FORMAT[compression]
    try:
        with opened(bytes(data), [PILLOW_FORMAT[fmt]]) as probe:
            probe.load()
            size = probe.size
    except ImageRefused as refused:
        reason = "too many pixels" if refused.code == "too_many_pixels" else f"not a readable {compression} image"
        raise NistProblem(f"{where} field {kind}.999 DATA", reason) from None
    if size != (width, height):
        raise NistProblem(f"{where} field {kind}.006 HLL", f"the image is {size[0]}×{size[1]}, not {width}×{height}")
    return Image(fmt, width, height, bytes(data)), position


def _fingers_of(record: AsciiRecord, idc: int, image: Image, position: int) -> dict[int, Image]:
    """A Type-14 record's fingers: its one finger, or a slap's (13-15) split as a station's slap is, the fingers
    the record marks missing (14.018 AMP) left out. The sender's own segment boxes (14.021) are not read."""
    if position not in slaps.SLAPS:
        return {position: image}
    where = f"record 14 (IDC {idc})"
    missing = set()
    for n, items in enumerate(_subfields(record[AMP]) if record[AMP] is not None else [], start=1):
        if len(items) != 2 or not items[0].isdigit() or items[1] not in ("XX", "UP"):
            raise NistProblem(f"{where} field 14.018 AMP subfield {n}", "write a missing finger as FGP, XX or UP")
        missing.add(int(items[0]))
    try:
        fingers = slaps.split(image.data, position, missing)
    except slaps.SlapProblem as problem:
        raise NistProblem(f"{where} field 14.999 DATA", str(problem)) from None
    return {position: Image(cut.format, cut.width, cut.height, cut.data) for position, cut in fingers.items()}


def _idc(record: AsciiRecord, kind: int) -> int:
    value = _text(record[2])
    if not value.isdigit():
        raise NistProblem(f"record {kind} field {kind}.002 IDC", f"{value!r} is not a number")
    return int(value)


def _number(record: AsciiRecord, kind: int, tag: int, name: str, where: str) -> int:
    value = _text(record[tag])
    if not value.isdigit():
        raise NistProblem(f"{where} field {kind}.{tag:03d} {name}", f"{value!r} is not a whole number")
    return int(value)


def _check_date(where: str, value: str, *, partial: bool) -> str:
    if not re.fullmatch(r"\d{8}", value):
        raise NistProblem(where, f"{value!r} is not a date YYYYMMDD")
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if partial and month == 0:
        if day:
            raise NistProblem(where, "a day without a month")
        return f"{year:04d}"
    if partial and day == 0:
        if not 1 <= month <= 12:
            raise NistProblem(where, f"{value!r} is not a date")
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise NistProblem(where, f"{value!r} is not a calendar date") from None


def _text(field: object) -> str:
    if field is None:
        return ""
    value = field.value  # type: ignore[attr-defined]
    return value.strip() if isinstance(value, str) else str(value or "").strip()


def _subfields(field: object) -> list[list[str]]:
    """A field's subfields as lists of items; nistitl gives a field of one subfield as a plain value."""
    parts = list(field)  # type: ignore[call-overload]
    if not parts:
        value = field.value  # type: ignore[attr-defined]
        return [[str(value).strip()]] if isinstance(value, str) else [[str(v).strip() for v in value]]
    return [[str(v).strip() for v in sf.values] if sf.values else [str(sf.value or "").strip()] for sf in parts]


def _short(error: Exception) -> str:
    return str(error).split(":", 1)[0][:60]
