"""Face and fingerprint scores as one number, for ranking candidates. Pure.

Each modality's score becomes evidence measured from its own decision threshold (zero at the threshold, positive
above it), in comparable units: a face distance in steps of ``FACE_STEP``, a Bozorth3 score on a log scale (its
genuine scores run from tens to hundreds). The evidence of the modalities present is added (the sum rule, Kittler
et al. 1998). A missing modality adds nothing: it neither helps nor harms. The result ranks candidates for a human;
it decides nothing."""

from __future__ import annotations

import math

FACE_STEP = 0.1  # about the spread of dlib genuine distances around the threshold


def face_evidence(distance: float, threshold: float) -> float:
    return (threshold - distance) / FACE_STEP


def finger_evidence(score: float, threshold: float) -> float:
    return math.log2((1 + score) / (1 + threshold))


def fused(
    face_distance: float | None, finger_score: float | None, face_threshold: float, finger_threshold: float
) -> float:
    total = 0.0
    if face_distance is not None:
        total += face_evidence(face_distance, face_threshold)
    if finger_score is not None:
        total += finger_evidence(finger_score, finger_threshold)
    return round(total, 4)
