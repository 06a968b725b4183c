"""Fingerprints: minutiae (NIST MINDTCT), NFIQ 2 quality, ISO/IEC 19794-2:2005 templates and Bozorth3 scores,
all from the ``nbis-py`` wheel (NIST's code compiled, no build here). We add the image checks, the records' codec
(``iso19794``: nbis-py's layout and the standard's), and multi-finger fusion.

Pure: bytes in, results out; no database."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field

import numpy as np
import wsq  # noqa: F401  registers the WSQ codec with Pillow (FBI WSQ, used by fingerprint scanners)

from travesia.biometrics import iso19794
from travesia.biometrics.iso19794 import Minutia
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
    """Minutiae of the first finger view of an ISO/IEC 19794-2:2005 record (nbis-py's layout, the standard's, or
    afis'; see ``iso19794``)."""
    try:
        return list(iso19794.decode(record).minutiae)
    except iso19794.IsoProblem as problem:
        raise FingerProblem("template", str(problem)) from None


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
