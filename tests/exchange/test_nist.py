"""ANSI/NIST-ITL: a round trip gives the same persons, fields and images; nistitl re-encodes a parsed file byte for
byte; every malformed file is refused naming the record and field. Images: scikit-image's public-domain NASA
portrait and synthetic fingerprints (WSQ through the `wsq` Pillow plugin)."""

from __future__ import annotations

import io
from datetime import date

import pytest
import wsq  # noqa: F401  registers the WSQ codec with Pillow
from nistitl import AsciiRecord, BinaryField, Field, Message, SubField
from PIL import Image as PILImage
from skimage import data as skdata

from travesia.exchange import nist
from travesia.exchange.records import DocumentRef, Image, PersonRecord, only_agreed
from travesia.synth import fingerprints
from travesia.synth import slaps as slap_images

TODAY = date(2026, 11, 23)


def _face() -> Image:
    out = io.BytesIO()
    PILImage.fromarray(skdata.astronaut()).resize((240, 300)).save(out, format="JPEG", quality=80)
    return Image("jpeg", 240, 300, out.getvalue())


def _finger(seed: int) -> Image:
    with PILImage.open(io.BytesIO(fingerprints.impression(seed, 0))) as picture:
        grey = picture.convert("L")
        out = io.BytesIO()
        grey.save(out, format="WSQ")
        return Image("wsq", grey.width, grey.height, out.getvalue())


@pytest.fixture(scope="module")
def people() -> list[PersonRecord]:
    full = PersonRecord(
        ref="7c6f0d8e-0000-4000-8000-000000000001",
        given_names="José Gregorio",
        surnames="Pérez Núñez",
        birth_date="1990-05-17",
        sex="M",
        nationality="VEN",
        country_of_birth="VEN",
        documents=(DocumentRef("passport", "X1234567", "VEN", "2030-01-31"), DocumentRef("id_card", "V12345", "VEN")),
        phone="+584141234567",
        languages=("es",),
        route=("COL", "PAN"),
        station="ERM-LAJAS-BLANCAS",
        registered_on="2026-11-01",
        face=_face(),
        fingers={2: _finger(1), 7: _finger(2)},
    )
    partial = PersonRecord(ref="p-2", surnames="Haddad", given_names=None, birth_date="1987-03", sex="F")
    year_only = PersonRecord(ref="p-3", surnames="Ali", given_names="Omar", birth_date="1979", face=_face())
    return [full, partial, year_only]


def test_export_and_import_give_the_same_persons_fields_and_images(people):
    blob = nist.encode(people, agency="PA-SNM", control="T-1", destination="US-DHS", today=TODAY)
    back = nist.decode(blob)
    assert (back.agency, back.control, back.sent_on) == ("PA-SNM", "T-1", "20261123")
    assert back.persons == people
    assert back.persons[0].fingers[7].data == people[0].fingers[7].data  # the WSQ bytes as they were


def test_a_parsed_file_is_written_again_byte_for_byte(people):
    blob = nist.encode(people, agency="PA-SNM", control="T-1", destination="US-DHS", today=TODAY)
    again = Message()
    again.parse(blob)
    assert blob == again.NIST
    assert again[0][2].value == "0502"  # ANSI/NIST-ITL 1-2011 Update 2015


def test_only_agreed_fields_and_images_are_written(people):
    cut = only_agreed(people[0], frozenset({"names", "birth_date"}), frozenset({"face"}))
    blob = nist.encode([cut], agency="PA-SNM", control="T-2", destination="CO-MIG", today=TODAY)
    for absent in (b"X1234567", b"+584141234567", b"ERM-LAJAS", b"2.021:", b"2.905:", b"\n14.001:", b"14.001:"):
        assert absent not in blob, absent
    back = nist.decode(blob).persons[0]
    assert (back.surnames, back.given_names, back.birth_date) == ("Pérez Núñez", "José Gregorio", "1990-05-17")
    assert back.face == people[0].face and back.fingers == {} and back.documents == () and back.nationality is None


def _with(blob: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and blob.count(old) == 1, old  # the record lengths stay right
    return blob.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"1.002:0502", b"1.002:0300", "record 1 field 1.002 VER"),
        (b"2.022:19900517", b"2.022:19901317", "record 2 (IDC 1) field 2.022 DOB"),
        (b"2.022:19870300", b"2.022:1987030X", "record 2 (IDC 2) field 2.022 DOB"),
        (b"2.024:F", b"2.024:Q", "record 2 (IDC 2) field 2.024 SEX"),
        (b"2.021:VEN", b"2.021:V3N", "record 2 (IDC 1) field 2.021 CTZ"),
        (b"2.018:Haddad,", b"2.018:Haddad;", "record 2 (IDC 2) field 2.018 NAM"),
        (b"14.013:7", b"14.013:0", "record 14 (IDC 1) field 14.013 FGP"),
        (b"10.011:JPEGB\x1d10.012:SRGB\x1d10.999:\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01", None, None),
    ],
)
def test_malformed_fields_are_refused_naming_record_and_field(people, old, new, where):
    blob = nist.encode(people, agency="PA-SNM", control="T-3", destination="US-DHS", today=TODAY)
    if new is None:  # the face's JPEG cut short: the image field is named
        at = blob.index(b"10.999:") + 7
        bad = blob[: at + 20] + b"\x00" * 200 + blob[at + 220 :]
        where = "record 10 (IDC 1) field 10.999 DATA"
    else:
        bad = _with(blob, old, new)
    with pytest.raises(nist.NistProblem) as refused:
        nist.decode(bad)
    assert refused.value.where == where, str(refused.value)


def test_images_that_lie_about_their_size_or_belong_to_nobody_are_refused(people):
    message = Message()
    message[0].VER = "0502"
    message[0].ORI = "XX"
    person = AsciiRecord(2)
    person.IDC = 1
    person += Field(2, 18, "ALI,OMAR")
    message += person
    face = people[0].face
    orphan = AsciiRecord(10)
    orphan.IDC = 2
    for tag, value in ((3, "FACE"), (6, "240"), (7, "300"), (11, "JPEGB")):
        orphan += Field(10, tag, value)
    orphan += BinaryField(10, 999, face.data)
    message += orphan
    with pytest.raises(nist.NistProblem, match="no Type-2 record with this IDC"):
        nist.decode(message.NIST)
    orphan.IDC = 1
    orphan[6].value = "241"
    with pytest.raises(nist.NistProblem) as refused:
        nist.decode(message.NIST)
    assert refused.value.where == "record 10 (IDC 1) field 10.006 HLL"


@pytest.mark.parametrize("data", [b"", b"not a nist file", b"1.001:9999\x1d1.002:0502\x1c"])
def test_files_that_are_not_transactions_are_refused(data):
    with pytest.raises(nist.NistProblem) as refused:
        nist.decode(data)
    assert refused.value.where == "file"


def _slap(seeds: list[int], **kw) -> Image:
    raw = slap_images.compose([fingerprints.impression(seed, 0) for seed in seeds], oval=True, **kw)
    with PILImage.open(io.BytesIO(raw)) as picture:
        return Image("png", picture.width, picture.height, raw)


def test_a_partners_slap_record_arrives_as_its_fingers():
    """EBTS-style 4-4-2 Type-14 records (FGP 13-15): split as a station's slap is, a finger the record marks
    amputated (14.018 AMP) left out of the names, a count that does not add up refused naming record and field."""
    person = PersonRecord(ref="p-9", surnames="Ali", given_names="Omar", fingers={13: _slap([91, 92, 93, 94])})
    blob = nist.encode([person], agency="COL-MIG", control="T9", destination="PAN-SNM", today=TODAY)
    assert sorted(nist.decode(blob).persons[0].fingers) == [2, 3, 4, 5]
    three = _slap([95, 96, 97], lift=(60, 0, 80), tilt=(6, 0, -6))
    blob = nist.encode(
        [PersonRecord(ref="p-9", surnames="Ali", fingers={14: three})],
        agency="COL-MIG",
        control="T9",
        destination="PAN-SNM",
        today=TODAY,
    )
    with pytest.raises(nist.NistProblem) as refused:
        nist.decode(blob)
    assert refused.value.where == "record 14 (IDC 1) field 14.999 DATA"
    assert "3 fingers were found" in refused.value.problem
    for code, fingers in (("XX", [7, 9, 10]), ("LOST", None)):
        message = Message()
        message.parse(blob)
        amputated = Field(14, 18)
        amputated.add_subfields(SubField(["8", code]))  # the left middle finger
        record = next(message.iter(14))
        record += amputated
        if fingers is None:
            with pytest.raises(nist.NistProblem, match=r"field 14\.018 AMP"):
                nist.decode(message.NIST)
        else:
            found = nist.decode(message.NIST).persons[0].fingers
            assert sorted(found) == fingers and all(image.format == "png" for image in found.values())
