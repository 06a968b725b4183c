"""The 1:N search of the biometric step: candidates per modality, then every candidate's calibrated evidence.

Each modality's index finds its own short list (faces by descriptor, fingers by code then Bozorth3, optionally
re-scored by the second stage). The candidates of either list are then compared in every modality both sides hold
(a finger found by nobody's code is still compared; a face the search did not rank counts at most the farthest
ranked face's bits), each comparison becomes bits (``evidence``), and the candidates are ranked by their sum. The
sum is evidence for the analyst, screening and identity resolution; it decides nothing by itself."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from travesia.biometrics import evidence, finger, finger_rescore, repository, service
from travesia.biometrics.evidence import Evidence

CANDIDATES = 10
RESCORED = 10  # subjects whose fingers the second stage re-scores (the best by Bozorth3): ~12 ms a finger each

Key = tuple[str, uuid.UUID]
Ranked = list[tuple[Key, float]]
Probes = dict[int, tuple[bytes | None, np.ndarray]]


@dataclass
class Fingers:
    """Per subject, per finger position: the score and whether the second stage made it."""

    scores: dict[Key, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    rescored: set[tuple[Key, int]] = field(default_factory=set)

    def summed(self) -> dict[Key, float]:
        return {key: finger.fuse(list(by_position.values())) for key, by_position in self.scores.items()}


@dataclass
class Found:
    ranked: dict[str, Ranked]  # face (distance), finger (Bozorth3 sum), fused (bits)
    evidence: dict[Key, Evidence]


def probe_for(probes: dict[int, object], position: int) -> object | None:
    """The probe finger to compare with a stored finger at ``position``: the same position, or the one probe
    finger of unknown position."""
    return probes.get(position) or (probes.get(0) if len(probes) == 1 else None)


def search_candidates(
    session: Session, bio: service.Biometrics, extracted: list[service.Extracted], exclude: uuid.UUID | None
) -> Found:
    faces = [e for e in extracted if e.vector is not None and e.sample.modality == "face"]
    probes: Probes = {
        e.sample.finger_position or 0: (e.template, e.vector)
        for e in extracted
        if e.vector is not None and e.sample.modality == "finger" and e.template
    }
    face_scores: dict[Key, float] = {}
    farthest: float | None = None  # of the ranked faces, when the index held more than were ranked
    if faces:
        hits = bio.face_index.search(faces[0].vector, k=CANDIDATES + 5)  # type: ignore[arg-type]
        for hit in hits:
            key = (hit.subject_kind, hit.subject_id)
            if hit.subject_id != exclude and key not in face_scores:
                face_scores[key] = hit.score
        farthest = max(h.score for h in hits) if len(hits) == CANDIDATES + 5 else None
    second = {e.sample.finger_position or 0: e.second for e in extracted if e.second and e.sample.modality == "finger"}
    found = finger_search(session, bio, probes, exclude=exclude, second=second if bio.second_stage else None)
    summed = found.summed()
    ranked: dict[str, Ranked] = {}
    if face_scores:
        ranked["face"] = sorted(face_scores.items(), key=lambda kv: kv[1])[:CANDIDATES]
    if summed:
        ranked["finger"] = sorted(summed.items(), key=lambda kv: -kv[1])[:CANDIDATES]
    keys = {key for modality in ranked.values() for key, _ in modality}
    complete_fingers(session, bio, probes, found, keys)
    with_face = (
        repository.subjects_with(session, keys, "face", bio.algorithms["face"]) if farthest is not None else set()
    )
    weighed = {key: weigh(bio, key, face_scores, farthest if key in with_face else None, found) for key in sorted(keys)}
    if weighed:
        ranked["fused"] = sorted(((k, e.total) for k, e in weighed.items()), key=lambda kv: -kv[1])[:CANDIDATES]
    return Found(ranked, weighed)


def weigh(
    bio: service.Biometrics, key: Key, faces: dict[Key, float], farthest: float | None, found: Fingers
) -> Evidence:
    algorithm = bio.algorithms["face"][0]
    if key in faces:
        face, face_found = evidence.face_bits(faces[key], algorithm), True
    elif farthest is not None:  # a face on both sides, not among the nearest: at most the farthest ranked one's bits
        face, face_found = evidence.face_bits(farthest, algorithm), False
    else:
        face, face_found = None, True
    fingers = {
        position: evidence.finger_bits(score, (key, position) in found.rescored)
        for position, score in found.scores.get(key, {}).items()
    }
    return Evidence(face, face_found, fingers)


def complete_fingers(session: Session, bio: service.Biometrics, probes: Probes, found: Fingers, keys: set[Key]) -> None:
    """Compare every finger both sides hold for these candidates (the code index may have missed some), in place."""
    if not probes or not keys:
        return
    for row in repository.subject_templates(session, keys, "finger", bio.algorithms["finger"]):
        key, position = (row.subject_kind, row.subject_id), row.finger_position or 0
        probe = probe_for(probes, position)
        if probe is None or probe[0] is None or position in found.scores.get(key, {}):  # type: ignore[index]
            continue
        found.scores[key][position] = finger.compare(probe[0], service.unseal(bio, row))  # type: ignore[index]


def finger_search(
    session: Session,
    bio: service.Biometrics,
    probes: Probes,
    *,
    exclude: uuid.UUID | None = None,
    second: dict[int, bytes] | None = None,
) -> Fingers:
    """Narrow with the fixed-length codes (per finger position), then score every surviving subject's fingers
    with Bozorth3; with ``second`` (the probe's second-stage templates by position), re-score the fingers of the
    ``RESCORED`` best subjects with the geometric matcher on LEADER minutiae, each finger's two scores fused on
    Bozorth3's scale."""
    shortlist: set[int] = set()
    for position, (_, code) in probes.items():
        shortlist.update(h.template_id for h in bio.finger_index.search(code, position))
    found = Fingers()
    for row in repository.templates(session, shortlist).values():
        if row.subject_id == exclude:
            continue
        position = row.finger_position or 0
        probe = probe_for(probes, position)
        if probe is None or probe[0] is None:  # type: ignore[index]
            continue
        found.scores[(row.subject_kind, row.subject_id)][position] = finger.compare(probe[0], service.unseal(bio, row))  # type: ignore[index]
    if second:
        rescore(session, bio, found, second)
    return found


def search_fingers(
    session: Session,
    bio: service.Biometrics,
    probes: Probes,
    *,
    exclude: uuid.UUID | None = None,
    second: dict[int, bytes] | None = None,
) -> dict[Key, float]:
    """Each subject the finger search found, with its fingers' Bozorth3 (or re-scored) scores summed."""
    return finger_search(session, bio, probes, exclude=exclude, second=second).summed()


def rescore(session: Session, bio: service.Biometrics, found: Fingers, second: dict[int, bytes]) -> None:
    """The second stage, in place: a finger both sides hold a second-stage template of (of this version) gets the
    two matchers' fused score; any other keeps Bozorth3's."""
    best = sorted(found.scores, key=lambda key: -sum(found.scores[key].values()))[:RESCORED]
    for row in repository.subject_templates(session, best, "finger", bio.second_stage_made_by):
        key, position = (row.subject_kind, row.subject_id), row.finger_position or 0
        scores = found.scores[key]
        probe = probe_for(second, position)  # type: ignore[arg-type]
        if probe is None or position not in scores:
            continue
        geometric = finger_rescore.compare(probe, service.unseal(bio, row))  # type: ignore[arg-type]
        scores[position] = finger_rescore.on_bozorth3_scale(scores[position], geometric)
        found.rescored.add((key, position))
