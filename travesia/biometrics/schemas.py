"""What the biometrics API and pages answer, and the words for the quality reasons the models give."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from travesia.core.errors import N_
from travesia.enrolment.schemas import ExemptionOut

REASON_LABELS = {
    "no_face": N_("no face found"),
    "several_faces": N_("more than one face"),
    "faces_in_background": N_("other faces in the background"),
    "face_too_small": N_("face too small: come closer"),
    "head_turned": N_("head turned: look at the camera"),
    "head_tilted": N_("head tilted: hold it straight"),
    "blurred": N_("blurred: hold still"),
    "too_dark": N_("too dark"),
    "too_bright": N_("too bright"),
    "overexposed": N_("overexposed"),
    "too_few_minutiae": N_("too few ridge details: press the finger flat"),
    "low_nfiq2": N_("low quality (NFIQ 2): clean the scanner and the finger"),
    "format": N_("image format not accepted"),
    "unreadable": N_("not a readable image"),
    "extraction": N_("no ridge details could be read"),
    "empty": N_("the file is empty"),
    "too_large": N_("the file is too large"),
    "too_many_pixels": N_("the image has too many pixels"),
    "frames": N_("the image has several frames or pages"),
    "size": N_("the image is too small or too large"),
}


class FaceQualityOut(BaseModel):
    acceptable: bool
    quality: int
    reasons: list[str]
    box: tuple[int, int, int, int] | None


class SampleOut(BaseModel):
    id: uuid.UUID
    modality: str
    finger_position: int | None
    status: str
    quality: int | None
    problems: list[str]
    attempts: int


# How strong a calibrated biometric term is (biometrics.evidence.strength), in words
EVIDENCE_LABELS = {
    "very_strong_for": N_("strongly for the same person"),
    "for": N_("for the same person"),
    "neutral": N_("neither way"),
    "against": N_("against the same person"),
    "very_strong_against": N_("strongly against the same person"),
    "not_among_nearest": N_("not among the nearest faces"),
}


class EvidenceTermOut(BaseModel):
    """One modality's calibrated evidence: its bits (log2 of the likelihood ratio), in words, and what it rests on
    (each finger's bits by position, and the factor for fingers of one person not being independent)."""

    feature: Literal["face", "finger"]
    level: str
    bits: float
    detail: str = ""


class CandidateOut(BaseModel):
    modality: str
    rank: int
    kind: str
    id: uuid.UUID
    person_id: uuid.UUID | None
    score: float  # face: distance; finger: Bozorth3 summed over fingers; fused: calibrated bits
    evidence: list[EvidenceTermOut] = []  # fused candidates only


class RegionMatchOut(BaseModel):
    """At a field station: a person central registered elsewhere in the region whose templates agree with this
    registration's (calibrated evidence of ``evidence.MATCH_BITS`` or more). For the officer to ask; it decides
    nothing."""

    person_id: uuid.UUID
    given_names: str
    surnames: str
    birth_year: int | None
    nationality: str | None
    station: str
    seen_at: datetime
    encounters: int
    score: float


class EncounterBiometricsOut(BaseModel):
    consent: str | None
    exemptions: list[ExemptionOut]
    samples: list[SampleOut]
    candidates: list[CandidateOut]
    region: list[RegionMatchOut] = []
    # where fingers were taken: the field minimum's fingers neither captured nor recorded as exempt (retake or record)
    fingers_missing: list[int] = []


class SearchHitOut(BaseModel):
    kind: str
    id: uuid.UUID
    person_id: uuid.UUID | None
    score: float
    match: bool
    bits: float  # calibrated evidence: log2 of the likelihood ratio (biometrics.evidence)
