"""ISO/IEC 19794-2:2005 minutiae records read and written with another implementation (afis' codec) both ways, and
a partner's standard record scored by Bozorth3 as our own record is: on synthetic prints, and on real FVC2002 prints
where ../shared is present."""

from pathlib import Path

import numpy as np
import pytest
from afis.algorithms.templates import FingerprintTemplateHeader, decode_iso19794_2, encode_iso19794_2

from travesia.biometrics import finger, iso19794
from travesia.biometrics.iso19794 import IsoProblem, Minutia, MinutiaeRecord

FVC = Path(__file__).resolve().parents[3] / "shared" / "data" / "biometrics" / "fvc2002"
AFIS_KIND = {1: 0, 2: 1}  # afis' own codes: 0 ridge ending, 1 bifurcation


def record_of(image: bytes) -> MinutiaeRecord:
    return iso19794.decode(finger.analyse(image).template)  # nbis-py's layout


def test_our_standard_record_reads_back_in_afis(finger_of):
    ours = record_of(finger_of(21, 0))
    header, minutiae = decode_iso19794_2(iso19794.encode(ours))
    assert (header.width, header.height) == (ours.width, ours.height) and len(minutiae) == len(ours.minutiae) > 10
    for (x, y, theta, kind, _), m in zip(minutiae, ours.minutiae, strict=True):
        assert (x, y, kind) == (m.x, m.y, AFIS_KIND[m.kind])
        assert abs((np.degrees(theta) - m.angle + 180) % 360 - 180) <= 360 / 256  # one step of the byte at most


def test_afis_records_read_here():
    header = FingerprintTemplateHeader(
        width=400, height=420, resolution_x=500, resolution_y=500,
        finger_position=2, impression_type=0, image_quality=70,
    )  # fmt: skip
    written = np.array([(10, 20, np.radians(45), 0, 0.5), (300, 400, np.radians(270), 1, 1.0)], dtype=np.float64)
    record = iso19794.decode(encode_iso19794_2(header, written))
    assert (record.width, record.height, record.position, record.quality) == (400, 420, 2, 70)
    assert record.minutiae == (Minutia(10, 20, 45.0, 1), Minutia(300, 400, 270.0, 2))


def test_a_standard_record_scores_in_bozorth3_as_our_own(finger_of):
    a, b = finger.analyse(finger_of(21, 0)).template, finger.analyse(finger_of(21, 1)).template
    other = finger.analyse(finger_of(22, 0)).template
    through_standard = iso19794.for_bozorth(iso19794.decode(iso19794.encode(iso19794.decode(b))))
    assert finger.compare(a, through_standard) == finger.compare(a, b) > finger.compare(a, other)
    assert iso19794.decode(iso19794.encode(iso19794.decode(b))).minutiae == iso19794.decode(b).minutiae


@pytest.mark.skipif(not FVC.exists(), reason="the real prints live in ../shared, outside the repository")
def test_real_prints_keep_their_score_through_the_standard_form():
    folder = next(p for p in sorted(FVC.rglob("*")) if p.is_dir() and any(p.glob("*_1.tif")))
    first, second = (finger.analyse((folder / name).read_bytes()).template for name in ("101_1.tif", "101_2.tif"))
    again = iso19794.for_bozorth(iso19794.decode(iso19794.encode(iso19794.decode(second))))
    assert finger.compare(first, again) == finger.compare(first, second)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"XYZ\x00" + bytes(40), "no 'FMR' header"),
        (b"FMR\x00030\x00" + bytes(40), "version"),
        (iso19794.encode(MinutiaeRecord(100, 100, (Minutia(1, 2, 3.0, 1),)))[:-3], "says"),
    ],
)
def test_what_is_not_a_record_is_refused_by_name(data, words):
    with pytest.raises(IsoProblem, match=words):
        iso19794.decode(data)


def test_a_minutia_outside_the_format_is_not_written():
    with pytest.raises(IsoProblem, match="cannot be written"):
        iso19794.encode(MinutiaeRecord(100, 100, (Minutia(20000, 2, 0.0, 1),)))


def test_the_commands_write_a_standard_record_and_score_two(tmp_path, finger_of):
    from typer.testing import CliRunner

    from travesia.cli import build

    env = {"TRAVESIA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "TRAVESIA_DATA_DIR": str(tmp_path)}

    def run(*args: str):
        return CliRunner().invoke(build("biometrics"), ["biometrics", *args], env=env)

    for name, image in (("a", finger_of(31, 0)), ("b", finger_of(31, 1)), ("c", finger_of(32, 0))):
        (tmp_path / f"{name}.png").write_bytes(image)
        made = run("minutiae", str(tmp_path / f"{name}.png"), "--out", str(tmp_path / name))
        assert made.exit_code == 0, made.output
    header, minutiae = decode_iso19794_2((tmp_path / "a").read_bytes())  # another implementation reads it
    assert len(minutiae) >= finger.MIN_MINUTIAE and header.resolution_x == iso19794.PPI_500_AS_PPCM
    same = run("compare-minutiae", str(tmp_path / "a"), str(tmp_path / "b"))
    other = run("compare-minutiae", str(tmp_path / "a"), str(tmp_path / "c"))
    assert '"decision": "match"' in same.output and '"decision": "no match"' in other.output, same.output + other.output
    (tmp_path / "bad").write_bytes(b"FMR\x00030\x00" + bytes(40))
    refused = run("compare-minutiae", str(tmp_path / "a"), str(tmp_path / "bad"))
    assert refused.exit_code == 1 and "version" in refused.output
