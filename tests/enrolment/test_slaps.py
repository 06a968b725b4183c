"""Flat slaps split into fingers: named left to right by the hand's own order, the fingertips still the same
fingers for the matcher (Bozorth3 of each crop against another impression of its source print), touching fingers
parted, fingers recorded as not taken left out of the names, and every count that does not add up refused rather
than guessed. Slaps are composed from single prints (tests/enrolment/slap_images.py): synthetic ones always, FVC2002's
real ones where ../shared/data is present."""

import io
from pathlib import Path

import pytest
from PIL import Image

from travesia.biometrics import finger
from travesia.enrolment import slaps
from travesia.enrolment.images import CleanImage, clean_fingerprint
from travesia.enrolment.rules import CaptureProblem
from travesia.enrolment.schemas import SLAP_LABELS
from travesia.synth.fingerprints import impression
from travesia.synth.slaps import compose

FVC = Path(__file__).resolve().parents[3] / "shared" / "data" / "biometrics" / "fvc2002" / "DB1_B"


def synthetic_slap(seeds: list[int], gap: int = 20, **kw) -> bytes:
    return compose([impression(seed, 0) for seed in seeds], gap=gap, oval=True, **kw)


def template(raw: bytes) -> bytes:
    return finger.analyse(raw, with_quality=False).template


def scores(split: dict[int, CleanImage], others: list[bytes]) -> list[list[int]]:
    """Bozorth3 of each crop (rows) against another impression of each source print (columns)."""
    references = [template(raw) for raw in others]
    return [[finger.compare(template(f.data), ref) for ref in references] for f in split.values()]


def assert_each_crop_is_its_own_finger(matrix: list[list[int]], floor: int) -> None:
    for row, line in enumerate(matrix):
        assert line[row] >= floor, matrix
        assert line[row] > 2 * max(v for col, v in enumerate(line) if col != row), matrix


def test_each_slap_names_its_fingers_in_the_hands_order():
    assert set(slaps.SLAPS) == set(SLAP_LABELS)
    seeds = [11, 12, 13, 14]
    right = slaps.split(synthetic_slap(seeds), 13)
    assert list(right) == [2, 3, 4, 5]  # right hand, palm down: index on the left
    assert_each_crop_is_its_own_finger(scores(right, [impression(s, 1) for s in seeds]), floor=25)
    left = slaps.split(synthetic_slap(seeds), 14)
    assert list(left) == [10, 9, 8, 7]  # left hand: little finger on the left
    thumbs = slaps.split(synthetic_slap([15, 16]), 15)
    assert list(thumbs) == [6, 1]  # left thumb, then right
    assert_each_crop_is_its_own_finger(scores(thumbs, [impression(s, 1) for s in (15, 16)]), floor=25)


def test_touching_fingers_are_parted():
    seeds = [11, 12, 13, 14]
    raw = synthetic_slap(seeds, gap=-100)
    _, parts = slaps._shapes(slaps._ridge_mask(slaps._grey(raw)))
    assert parts < 4  # the glass shows fewer separate shapes than fingers: they touch
    found = slaps.split(raw, 13)
    assert list(found) == [2, 3, 4, 5]
    assert_each_crop_is_its_own_finger(scores(found, [impression(s, 1) for s in seeds]), floor=25)


def test_a_finger_recorded_as_not_taken_is_left_out_of_the_names():
    three = synthetic_slap([21, 22, 23], lift=(60, 0, 80), tilt=(6, 0, -6))
    assert list(slaps.split(three, 14, exempt={8})) == [10, 9, 7]
    assert list(slaps.split(three, 13, exempt={5})) == [2, 3, 4]


def test_counts_that_do_not_add_up_are_refused_not_guessed():
    three = synthetic_slap([21, 22, 23], lift=(60, 0, 80), tilt=(6, 0, -6))
    with pytest.raises(slaps.SlapProblem) as refused:
        slaps.split(three, 13)  # a finger missing and nothing recorded: which one is not known
    assert refused.value.params == {"found": 3, "expected": 4}
    assert "retake it, or send the fingers one by one" in str(refused.value)
    five = synthetic_slap([21, 22, 23, 24, 25], lift=(60, 0, 20, 80, 160), tilt=(8, 4, -2, -8, -20))
    with pytest.raises(slaps.SlapProblem) as refused:
        slaps.split(five, 13)  # the thumb pressed too
    assert refused.value.params == {"found": 5, "expected": 4}
    blank = io.BytesIO()
    Image.new("L", (800, 600), 250).save(blank, format="PNG")  # clean glass
    with pytest.raises(slaps.SlapProblem) as refused:
        slaps.split(blank.getvalue(), 15)
    assert refused.value.params == {"found": 0, "expected": 2}
    with pytest.raises(slaps.SlapProblem, match="Every finger of this slap"):
        slaps.split(three, 15, exempt={1, 6})
    with pytest.raises(slaps.SlapProblem, match="readable image"):
        slaps.split(b"not an image", 13)


def test_a_finger_sent_alone_and_on_a_slap_is_refused_on_the_slaps_field():
    slap = clean_fingerprint(synthetic_slap([11, 12, 13, 14]))
    alone = clean_fingerprint(impression(11, 1))
    fingers = slaps.expanded({1: alone, 13: slap}, exempt=set())
    assert sorted(fingers) == [1, 2, 3, 4, 5] and fingers[1] is alone
    assert all(fingers[p].format == "png" and fingers[p].width >= 64 for p in (2, 3, 4, 5))
    with pytest.raises(CaptureProblem) as refused:
        slaps.expanded({2: alone, 13: slap}, exempt=set())
    assert refused.value.field == "fingerprint_13" and refused.value.params == {"position": 2}


def test_exempt_positions_read_both_the_form_and_the_stored_record():
    from travesia.enrolment.schemas import ExemptionIn

    given = [
        ExemptionIn(modality="finger", finger_position=8, reason="amputated"),
        ExemptionIn(modality="face", reason="other"),
    ]
    stored = [{"modality": "finger", "finger_position": 3}, {"modality": "finger", "finger_position": None}]
    assert slaps.exempt_positions(given) == {8} and slaps.exempt_positions(stored) == {3}


@pytest.mark.skipif(not FVC.exists(), reason="FVC2002 is read in place from ../shared/data (never copied here)")
def test_real_prints_on_a_slap_stay_the_same_fingers():
    """Four real fingers (FVC2002 DB1_B, optical, 500 ppi), touching on the glass: each crop matches another
    impression of its own finger and none of the others."""
    ids = [101, 102, 103, 104]
    raw = compose([(FVC / f"{i}_1.tif").read_bytes() for i in ids], gap=-140)
    _, parts = slaps._shapes(slaps._ridge_mask(slaps._grey(raw)))
    assert parts < 4
    found = slaps.split(raw, 13)
    assert list(found) == [2, 3, 4, 5]
    assert_each_crop_is_its_own_finger(scores(found, [(FVC / f"{i}_2.tif").read_bytes() for i in ids]), floor=60)


def test_a_wsq_slap_from_the_scanner_is_split_like_any_other():
    """Scanners write WSQ: the slap is kept as sent until it is split, and its fingers become lossless PNG."""
    import wsq  # noqa: F401  registers the WSQ codec with Pillow

    out = io.BytesIO()
    Image.open(io.BytesIO(synthetic_slap([11, 12, 13, 14]))).convert("L").save(out, format="WSQ")
    slap = clean_fingerprint(out.getvalue())
    assert slap.format == "wsq"
    fingers = slaps.expanded({13: slap}, exempt=set())
    assert sorted(fingers) == [2, 3, 4, 5] and {f.format for f in fingers.values()} == {"png"}
    assert_each_crop_is_its_own_finger(scores(fingers, [impression(s, 1) for s in (11, 12, 13, 14)]), floor=25)
