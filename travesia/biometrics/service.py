"""Biometric use cases: the pipeline step after an encounter is stored (extract → quality → 1:N → candidates),
its retries, the indexes' upkeep, comparison and search, re-extraction and key rotation.

The step runs after the enrolment has committed, in its own transactions: a failure here is retried later and can
never lose or change the enrolment. Nothing here decides anything about a person: candidates are evidence."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import face, finger, finger_rescore, fingercode, repository, search
from travesia.biometrics.face_models import FaceDescriptor, face_model
from travesia.biometrics.index import Entry, FaceIndex, FingerIndex
from travesia.core.crypto import DecryptionError, Keyring
from travesia.core.logging import get_logger
from travesia.core.principal import cli_principal
from travesia.models import BiometricCandidate, BiometricSample, BiometricTemplate

log = get_logger("travesia.biometrics")
SAVE_EVERY = 1000  # templates added since the index file was last written
SYSTEM = cli_principal("biometric-step")


@dataclass
class Biometrics:
    """Per process: the keyring and the two in-memory indexes, persisted (encrypted) in ``folder``."""

    keyring: Keyring
    folder: Path
    face_threshold: float = 0.5
    finger_threshold: int = 40
    attempts: int = 5
    second_stage: bool = False  # re-score the finger short list with LEADER + geometric (finger_rescore)
    face_model: FaceDescriptor = field(default_factory=face_model)
    face_index: FaceIndex = field(default=None)  # type: ignore[assignment]  # sized for the model, below
    finger_index: FingerIndex = field(default_factory=FingerIndex)
    unsaved: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.face_index is None:
            self.face_index = FaceIndex(dimensions=self.face_model.dimensions)

    @classmethod
    def from_settings(cls, settings: object) -> Biometrics:
        return cls(
            keyring=Keyring(settings.keyring_spec),  # type: ignore[attr-defined]
            folder=Path(settings.data_dir) / "index",  # type: ignore[attr-defined]
            face_threshold=settings.face_threshold,  # type: ignore[attr-defined]
            finger_threshold=settings.finger_threshold,  # type: ignore[attr-defined]
            attempts=settings.biometric_attempts,  # type: ignore[attr-defined]
            second_stage=settings.finger_second_stage,  # type: ignore[attr-defined]
            face_model=face_model(settings.face_model),  # type: ignore[attr-defined]
        )

    @property
    def algorithms(self) -> dict[str, tuple[str, str]]:
        """The algorithm and version of the templates this process makes and compares, per modality."""
        return {
            "face": (self.face_model.algorithm, self.face_model.version),
            "finger": (finger.ALGORITHM, finger.VERSION),
        }

    @property
    def second_stage_made_by(self) -> tuple[str, str]:
        """The second-stage finger templates' algorithm and version (stored beside the Bozorth3 ones, one a sample,
        never indexed, compared only with each other)."""
        return finger_rescore.ALGORITHM, finger_rescore.version()

    def current(self) -> dict[str, set[tuple[str, str]]]:
        """Per modality, the (algorithm, version) of templates that are up to date: the primary ones, and the
        second stage's (kept when the switch is off: it may be turned on again)."""
        return {
            modality: {made_by} | ({self.second_stage_made_by} if modality == "finger" else set())
            for modality, made_by in self.algorithms.items()
        }

    def indexes(self) -> tuple[FaceIndex | FingerIndex, ...]:
        return (self.face_index, self.finger_index)


# -- templates at rest ------------------------------------------------------------------------------------------
def _context(kind: str, subject_id: uuid.UUID, modality: str, position: int | None) -> bytes:
    """Binds a ciphertext to its row's subject: a template copied onto another person does not decrypt."""
    return f"template:{kind}:{subject_id}:{modality}:{position or 0}".encode()


def seal(bio: Biometrics, row: BiometricTemplate, plaintext: bytes) -> None:
    row.ciphertext = bio.keyring.encrypt(
        plaintext, context=_context(row.subject_kind, row.subject_id, row.modality, row.finger_position)
    )
    row.key_id = bio.keyring.active_id


def unseal(bio: Biometrics, row: BiometricTemplate) -> bytes:
    return bio.keyring.decrypt(
        row.ciphertext, context=_context(row.subject_kind, row.subject_id, row.modality, row.finger_position)
    )


def face_vector(plaintext: bytes) -> np.ndarray:
    return np.frombuffer(plaintext, dtype=np.float32)


def _index_entry(bio: Biometrics, row: BiometricTemplate) -> Entry:
    plaintext = unseal(bio, row)
    if row.modality == "face":
        vector = face_vector(plaintext)
    else:
        vector = fingercode.code(finger.as_array(finger.read_iso(plaintext)))
    return Entry(row.id, row.subject_kind, row.subject_id, row.finger_position or 0, vector)


# -- the pipeline step ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    """What extraction needs of a sample, read out of its (short) read transaction."""

    id: uuid.UUID
    modality: str
    finger_position: int | None
    image: bytes

    @classmethod
    def of(cls, sample: BiometricSample) -> Capture:
        return cls(sample.id, sample.modality, sample.finger_position, sample.image)


@dataclass
class Extracted:
    sample: Capture
    template: bytes | None
    quality: int
    reasons: list[str]
    vector: np.ndarray | None = None  # face descriptor or finger code, for the search
    second: bytes | None = None  # a finger's second-stage template (LEADER minutiae), when asked for


def extract(sample: Capture, model: FaceDescriptor | None = None, second_stage: bool = False) -> Extracted:
    """Template and quality of one sample (a face's by ``model``, the default descriptor when not given; a usable
    finger's second-stage template too if ``second_stage``); an unusable image is a result (rejected, with
    reasons), not an error."""
    try:
        if sample.modality == "face":
            result = face.analyse(sample.image, model=model)
            if not result.acceptable or result.template is None:
                return Extracted(sample, None, result.quality, result.reasons)
            return Extracted(sample, result.template.tobytes(), result.quality, result.reasons, result.template)
        print_ = finger.analyse(sample.image)
    except (face.FaceProblem, finger.FingerProblem) as problem:
        return Extracted(sample, None, 0, [problem.reason])
    vector = fingercode.code(finger.as_array(print_.minutiae))
    quality = print_.nfiq2 if print_.nfiq2 is not None else 0
    template = print_.template if print_.acceptable else None
    second = second_stage_template(sample.image) if template and second_stage else None
    return Extracted(sample, template, quality, print_.reasons, vector if template else None, second)


def second_stage_template(image: bytes) -> bytes | None:
    """LEADER's minutiae of a print Bozorth3 could use; None where LEADER finds none (Bozorth3 alone then)."""
    try:
        return finger_rescore.extract(image)
    except finger.FingerProblem:
        return None


def record(
    session: Session, bio: Biometrics, encounter_id: uuid.UUID, extracted: list[Extracted]
) -> list[BiometricCandidate]:
    """The write half of the step, in the caller's transaction: candidates, templates, samples' outcome, audit."""
    found = search.search_candidates(session, bio, extracted, exclude=encounter_id)
    for item in extracted:
        sample = repository.sample(session, item.sample.id)
        assert sample is not None  # samples are deleted only with their encounter
        sample.status = "done" if item.template else "rejected"
        sample.quality = item.quality
        sample.problems = item.reasons
        sample.next_attempt_at = None
        if item.template:
            repository.add(session, template_row(bio, "encounter", encounter_id, item, sample.id))
        if item.second:
            repository.add(session, template_row(bio, "encounter", encounter_id, item, sample.id, second_stage=True))
    rows = [
        BiometricCandidate(
            encounter_id=encounter_id,
            modality=modality,
            candidate_kind=kind,
            candidate_id=subject,
            score=score,
            rank=rank,
            evidence=found.evidence[(kind, subject)].as_json() if modality == "fused" else None,
        )
        for modality, ranked in found.ranked.items()
        for rank, ((kind, subject), score) in enumerate(ranked, 1)
    ]
    repository.add(session, *rows)
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "biometrics.process",
        record_type="encounter",
        record_id=encounter_id,
        details={
            "samples": len(extracted),
            "rejected": sum(1 for e in extracted if not e.template),
            "candidates": {m: len(r) for m, r in found.ranked.items()},
        },
    )
    return rows


def template_row(
    bio: Biometrics,
    kind: str,
    subject_id: uuid.UUID,
    item: Extracted,
    sample_id: uuid.UUID | None,
    *,
    second_stage: bool = False,
) -> BiometricTemplate:
    """The stored, sealed template of an extracted sample: its primary one, or with ``second_stage`` a finger's
    second-stage one (same sample, the second stage's algorithm and version)."""
    modality = item.sample.modality
    plaintext = item.second if second_stage else item.template
    assert plaintext is not None
    algorithm, version = bio.second_stage_made_by if second_stage else bio.algorithms[modality]
    row = BiometricTemplate(
        subject_kind=kind,
        subject_id=subject_id,
        sample_id=sample_id,
        modality=modality,
        finger_position=item.sample.finger_position,
        algorithm=algorithm,
        version=version,
        quality=item.quality,
        quality_reasons=item.reasons,
    )
    seal(bio, row, plaintext)
    return row


# -- the indexes ------------------------------------------------------------------------------------------------
def _file(bio: Biometrics, modality: str) -> Path:
    """One file per modality and model: another model's index is never read back as this one's."""
    algorithm, version = bio.algorithms[modality]
    tag = hashlib.sha256(f"{algorithm}|{version}".encode()).hexdigest()[:12]
    return bio.folder / f"{modality}-{tag}.index"


def load(bio: Biometrics) -> None:
    """Read the persisted indexes (sealed with the data keys: they hold descriptors) if any; ``sync`` then tops
    them up or rebuilds them."""
    for index in bio.indexes():
        path = _file(bio, index.modality)
        try:
            blob = bio.keyring.decrypt(path.read_bytes(), context=f"index:{index.modality}".encode())
        except (OSError, DecryptionError):
            continue  # missing, or sealed with a key we no longer hold: rebuilt from the database
        index.restore(blob)


def save(bio: Biometrics) -> None:
    bio.folder.mkdir(parents=True, exist_ok=True)
    for index in bio.indexes():
        sealed = bio.keyring.encrypt(index.dump(), context=f"index:{index.modality}".encode())
        path = _file(bio, index.modality)
        partial = path.with_suffix(".partial")
        partial.write_bytes(sealed)
        partial.replace(path)  # a crash leaves the old file or the new one, never half of one
    bio.unsaved = 0


def maybe_save(bio: Biometrics) -> None:
    if bio.unsaved >= SAVE_EVERY:
        save(bio)


def sync(session: Session, bio: Biometrics) -> None:
    """Bring both indexes up to the database: rebuild if the generation moved (templates retired), else add the
    templates newer than the index's mark."""
    with bio.lock:
        for index in bio.indexes():
            generation = repository.generation(session, index.modality)
            if generation != index.generation:
                rebuild(session, bio, index, generation)
                continue
            made_by = bio.algorithms[index.modality]
            for rows in repository.live_templates(session, index.modality, made_by, after_id=index.mark):
                index.add([_index_entry(bio, row) for row in rows])
                bio.unsaved += len(rows)


def rebuild(session: Session, bio: Biometrics, index: FaceIndex | FingerIndex, generation: int) -> None:
    fresh = index.empty()
    made_by = bio.algorithms[index.modality]
    entries = [
        _index_entry(bio, row) for rows in repository.live_templates(session, index.modality, made_by) for row in rows
    ]
    fresh.add(entries)  # all at once: the centre is the whole gallery's mean
    fresh.generation = generation
    if index.modality == "face":
        bio.face_index = fresh  # type: ignore[assignment]
    else:
        bio.finger_index = fresh  # type: ignore[assignment]
    bio.unsaved = SAVE_EVERY  # write it out at the next chance
