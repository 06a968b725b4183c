"""Fingerprints: minutiae (NIST MINDTCT), NFIQ 2 quality, ISO/IEC 19794-2:2005 templates and Bozorth3 scores,
all from the ``nbis-py`` wheel (NIST's code compiled, no build here). We add the image checks, the ISO record reader
the index needs, and multi-finger fusion.

Pure: bytes in, results out; no database."""

from __future__ import annotations

import io
import struct
import threading
from dataclasses import dataclass, field

import numpy as np
import wsq  # noqa: F401  registers the WSQ codec with Pillow (FBI WSQ, used by fingerprint scanners)

from travesia.core.images import ImageRefused, opened

ALGORITHM = "nbis-mindtct-bozorth3"
VERSION = "nbis-py-0.1.3"
MIN_MINUTIAE = 12  # our floor: with fewer, Bozorth3 has too few minutia pairs for a meaningful score
MIN_NFIQ2 = 20  # NFIQ 2 runs 0–100; under 20 is its lowest utility band
MAX_SIDE = 2000
FINGER_FORMATS = ("WSQ", "PNG", "TIFF", "JPEG", "BMP")
MIN_SIDE = 150
MAX_BYTES = 8 * 1024 * 1024
WSQ_MAGIC = b"\xff\xa0"

_lock = threading.Lock()
_extractors: dict[bool, object] = {}


class FingerProblem(ValueError):
    """The image is not usable as a fingerprint; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Minutia:
    x: int
    y: int
    angle: float  # degrees, counter-clockwise from the x axis
    kind: int  # 1 ridge ending, 2 bifurcation, 0 other (ISO/IEC 19794-2 codes)


@dataclass
class FingerResult:
    template: bytes  # ISO/IEC 19794-2:2005 record
    minutiae: list[Minutia]
    nfiq2: int | None  # None where NFIQ 2 could not assess the image
    reasons: list[str] = field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        return not self.reasons


def _extractor(with_quality: bool = True) -> object:
    """NBIS extractors are created once per process (the NFIQ 2 model loads with it)."""
    with _lock:
        if with_quality not in _extractors:
            import nbis

            settings = nbis.NbisExtractorSettings(
                min_quality=0.0, get_center=False, check_fingerprint=False, compute_nfiq2=with_quality, ppi=None
            )
            _extractors[with_quality] = nbis.new_nbis_extractor(settings)
        return _extractors[with_quality]


def grey_png(raw: bytes) -> bytes:
    """Decode any accepted fingerprint image (WSQ, PNG, TIFF, JPEG, BMP) into an 8-bit grey PNG for NBIS;
    refuse what is not a plausible fingerprint image."""
    if not raw:
        raise FingerProblem("empty", "the file is empty")
    if len(raw) > MAX_BYTES:
        raise FingerProblem("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with opened(raw, FINGER_FORMATS, max_pixels=MAX_SIDE * MAX_SIDE) as image:
            size = image.size
            grey = image.convert("L") if max(size) <= MAX_SIDE and min(size) >= MIN_SIDE else None
    except ImageRefused as refused:
        raise FingerProblem(refused.code, str(refused)) from None
    if grey is None:
        raise FingerProblem("size", f"a fingerprint image must be between {MIN_SIDE} and {MAX_SIDE} pixels a side")
    out = io.BytesIO()
    grey.save(out, format="PNG")
    return out.getvalue()


def analyse(raw: bytes, *, with_quality: bool = True) -> FingerResult:
    png = grey_png(raw)
    import nbis

    nfiq2: int | None = None
    try:
        try:
            extracted = _extractor(with_quality).extract_minutiae(png)  # type: ignore[attr-defined]
            nfiq2 = int(extracted.quality().score) if with_quality else None
        except nbis.NbisError.Nfiq2ComputeFailed:
            # NFIQ 2 gives up on some images (little foreground); the minutiae can still be usable.
            extracted = _extractor(False).extract_minutiae(png)  # type: ignore[attr-defined]
    except nbis.NbisError as exc:
        raise FingerProblem("extraction", f"no minutiae could be extracted ({type(exc).__name__})") from None
    template = bytes(extracted.to_iso_19794_2_2005())
    minutiae = read_iso(template)
    reasons = []
    if len(minutiae) < MIN_MINUTIAE:
        reasons.append("too_few_minutiae")
    if nfiq2 is not None and nfiq2 < MIN_NFIQ2:
        reasons.append("low_nfiq2")
    return FingerResult(template=template, minutiae=minutiae, nfiq2=nfiq2, reasons=reasons)


def read_iso(record: bytes) -> list[Minutia]:
    """Minutiae of the first finger view of an ISO/IEC 19794-2:2005 record: a general header, a 4-byte view
    header ending in the minutia count, 6 bytes a minutia (type|x, reserved|y, angle in 1.40625° steps, quality),
    then 2 bytes of extended data length. nbis-py writes a 22-byte general header (the standard's is 24) and no
    extended data length, so the layout is taken from the record's own length field."""
    if len(record) < 28 or record[:4] != b"FMR\x00":
        raise FingerProblem("template", "not an ISO/IEC 19794-2 finger minutiae record")
    length = struct.unpack_from(">I", record, 8)[0]
    layouts = [(h, tail) for h in (24, 22) for tail in (2, 0)]
    start = next((h + 4 for h, tail in layouts if length == h + 4 + 6 * record[h + 3] + tail), None)
    if start is None or length != len(record):
        raise FingerProblem("template", "the minutiae record is truncated or malformed")
    out = []
    for index in range(record[start - 1]):
        type_x, y, angle, _quality = struct.unpack_from(">HHBB", record, start + 6 * index)
        out.append(Minutia(x=type_x & 0x3FFF, y=y & 0x3FFF, angle=angle * 360.0 / 256.0, kind=type_x >> 14))
    return out


def compare(template_a: bytes, template_b: bytes) -> int:
    """Bozorth3 score of two ISO records (symmetric in practice; ~0.6 ms here). Genuine pairs score tens to
    hundreds, impostors mostly under 20."""
    extractor = _extractor(False)
    a = extractor.load_iso_19794_2_2005(template_a)  # type: ignore[attr-defined]
    b = extractor.load_iso_19794_2_2005(template_b)  # type: ignore[attr-defined]
    return int(a.compare(b))


def fuse(scores: list[int]) -> float:
    """Several fingers' Bozorth3 scores as one: the sum rule, the plain and robust choice for scores of one matcher
    (Kittler et al. 1998; NIST's multi-finger evaluations use it too)."""
    return float(sum(scores))


def as_array(minutiae: list[Minutia]) -> np.ndarray:
    return np.array([(m.x, m.y, m.angle) for m in minutiae], dtype=np.float32).reshape(-1, 3)
