"""An officer's and an auditor's tools: compare two images, search one against everyone enrolled (audited),
re-extract templates made by an older algorithm, rotate the key that seals templates at rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import evidence, face, finger, finger_rescore, fingercode, repository, search, service
from travesia.biometrics.face_models import FaceDescriptor
from travesia.biometrics.index import Hit
from travesia.core.db import utcnow
from travesia.core.errors import N_, InvalidInput
from travesia.core.principal import Principal
from travesia.models import BiometricTemplate


# -- officers' and auditors' tools ------------------------------------------------------------------------------
@dataclass
class Comparison:
    modality: str
    score: float
    threshold: float
    match: bool
    quality: tuple[int, int]
    reasons: tuple[list[str], list[str]]


def compare_images(bio: service.Biometrics, modality: str, raw_a: bytes, raw_b: bytes) -> Comparison:
    if modality == "face":
        a, b = face.analyse(raw_a, model=bio.face_model), face.analyse(raw_b, model=bio.face_model)
        for name, result in (("a", a), ("b", b)):
            if result.template is None:
                raise InvalidInput(N_("No usable face in image %(name)s."), field=name, name=name)
        score = face.distance(a.template, b.template)  # type: ignore[arg-type]
        return Comparison(
            "face",
            score,
            bio.face_threshold,
            score <= bio.face_threshold,
            (a.quality, b.quality),
            (a.reasons, b.reasons),
        )
    fa, fb = _finger(raw_a), _finger(raw_b)
    score = finger.compare(fa.template, fb.template)
    return Comparison(
        "finger",
        score,
        bio.finger_threshold,
        score >= bio.finger_threshold,
        (fa.nfiq2 or 0, fb.nfiq2 or 0),
        (fa.reasons, fb.reasons),
    )


def _finger(raw: bytes) -> finger.FingerResult:
    try:
        return finger.analyse(raw)
    except finger.FingerProblem as problem:
        raise InvalidInput(N_("Unusable fingerprint image: %(why)s"), field="image", why=str(problem)) from None


@dataclass
class Candidate:
    subject_kind: str
    subject_id: uuid.UUID
    person_id: uuid.UUID | None
    score: float
    match: bool
    bits: float  # the calibrated evidence (biometrics.evidence): log2 of the likelihood ratio


@dataclass(frozen=True)
class Probe:
    """An image made ready for a search: the face descriptor, or a finger's template and index code (and its
    second-stage template, when asked for)."""

    modality: str
    vector: np.ndarray
    template: bytes | None = None
    position: int = 0
    second: bytes | None = None


def probe_of(
    modality: str, raw: bytes, position: int = 0, model: FaceDescriptor | None = None, second_stage: bool = False
) -> Probe:
    """The slow half of a search (decoding and the models), done before any transaction is opened; a face by the
    process's descriptor (``model``; compare it only with an index of the same model). ``second_stage`` also makes
    a finger's LEADER template (~0.4 s: the command line's and workers' business, never a web request's)."""
    if modality == "face":
        try:
            result = face.analyse(raw, model=model)
        except face.FaceProblem as problem:
            raise InvalidInput(N_("Unusable image: %(why)s"), field="image", why=str(problem)) from None
        if result.template is None:
            raise InvalidInput(N_("No usable face in the image."), field="image")
        return Probe("face", result.template)
    print_ = _finger(raw)
    second = finger_rescore.extract(raw) if second_stage else None
    return Probe("finger", fingercode.code(finger.as_array(print_.minutiae)), print_.template, position, second)


def search_probe(
    session: Session, bio: service.Biometrics, principal: Principal, probe: Probe, k: int = 10
) -> list[Candidate]:
    service.sync(session, bio)
    if probe.modality == "face":
        hits: list[Hit] = bio.face_index.search(probe.vector, k=k)
        algorithm = bio.algorithms["face"][0]
        scored = [
            (
                (h.subject_kind, h.subject_id),
                h.score,
                h.score <= bio.face_threshold,
                evidence.face_bits(h.score, algorithm),
            )
            for h in hits
        ]
    else:
        second = {probe.position: probe.second} if probe.second else None
        found = search.finger_search(session, bio, {probe.position: (probe.template, probe.vector)}, second=second)
        # ranked by bits: a re-scored finger and a Bozorth3-only one are on one scale only there
        weighed = [
            (key, score, score >= bio.finger_threshold, _finger_bits(found, key))
            for key, score in found.summed().items()
        ]
        scored = sorted(weighed, key=lambda row: -row[3])[:k]
    persons = repository.persons_of(session, [key[1] for key, *_ in scored if key[0] == "encounter"])
    audit.record(session, principal, "biometrics.search", details={"modality": probe.modality, "results": len(scored)})
    return [Candidate(key[0], key[1], persons.get(key[1]), score, match, bits) for key, score, match, bits in scored]


def _finger_bits(found: search.Fingers, key: search.Key) -> float:
    return sum(evidence.finger_bits(s, (key, p) in found.rescored) for p, s in found.scores[key].items())


def reextract(session: Session, bio: service.Biometrics, principal: Principal) -> int:
    """Rebuild templates made by an older algorithm or version from their stored samples (a second-stage template
    as a second-stage one); the old rows are retired (kept, not changed), and the indexes are told to rebuild.
    With the second stage on, also make the second-stage templates that samples lack (enrolled before it was
    turned on). Returns how many templates were made or retired."""
    outdated = repository.outdated_templates(session, bio.current())
    touched = set()
    second_algorithm = bio.second_stage_made_by[0]
    for old in outdated:
        sample = repository.sample(session, old.sample_id) if old.sample_id else None
        if sample is None:
            continue
        old.retired_at = utcnow()
        if old.algorithm == second_algorithm:  # never indexed: nothing to rebuild; remade only if it is used
            if bio.second_stage:
                _add_second_stage(session, bio, old, sample.image)
            continue
        fresh = service.extract(service.Capture.of(sample), bio.face_model)
        touched.add(old.modality)
        if fresh.template is not None:
            repository.add(session, service.template_row(bio, old.subject_kind, old.subject_id, fresh, sample.id))
    made_by = (bio.algorithms["finger"], bio.second_stage_made_by)
    missing = repository.without_second_stage(session, *made_by) if bio.second_stage else []
    for primary in missing:
        sample = repository.sample(session, primary.sample_id) if primary.sample_id else None
        if sample is not None:
            _add_second_stage(session, bio, primary, sample.image)
    for modality in touched:
        repository.bump_generation(session, modality)
    details = {"templates": len(outdated), "second_stage": len(missing)}
    audit.record(session, principal, "biometrics.reextract", details=details)
    return len(outdated) + len(missing)


def _add_second_stage(session: Session, bio: service.Biometrics, like: BiometricTemplate, image: bytes) -> None:
    second = service.second_stage_template(image)
    if second is None:
        return
    capture = service.Capture(like.sample_id, "finger", like.finger_position, image)  # type: ignore[arg-type]
    item = service.Extracted(capture, None, like.quality, list(like.quality_reasons), second=second)
    repository.add(
        session, service.template_row(bio, like.subject_kind, like.subject_id, item, like.sample_id, second_stage=True)
    )


def rotate_key(session: Session, bio: service.Biometrics, principal: Principal, batch: int = 1000) -> int:
    """Re-encrypt every template under the active key (the first in TRAVESIA_DATA_KEYS); old keys can be dropped
    from the keyring once this reports nothing left."""
    done = 0
    while rows := repository.templates_not_under(session, bio.keyring.active_id, batch):
        for row in rows:
            service.seal(bio, row, service.unseal(bio, row))
        session.flush()
        done += len(rows)
    audit.record(session, principal, "biometrics.rotate_key", details={"templates": done, "key": bio.keyring.active_id})
    return done
