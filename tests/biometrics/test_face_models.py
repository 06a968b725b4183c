"""A face descriptor is chosen by configuration and its templates are never mixed with another model's: the index
of one model loads none of the other's templates, a search finds only its own, and re-extraction brings the old
templates to the new model from their stored images (the old rows retired, not changed). On both databases."""

import numpy as np
import pytest
from sqlalchemy import select

from tests.biometrics.test_pipeline import ADMIN, enrol
from travesia.biometrics import face_models, jobs, service, tools
from travesia.models import BiometricCandidate, BiometricTemplate


class GreyLevels:
    """A second model for the test: the aligned face's mean grey levels on a 4×4 grid, norm 1."""

    algorithm = "test-grey-levels"
    version = "1"
    dimensions = 16
    threshold = 0.05

    def describe(self, pixels, landmarks) -> np.ndarray:
        import dlib

        chip = dlib.get_face_chip(pixels, landmarks, size=64).mean(axis=2)
        cells = chip.reshape(4, 16, 4, 16).mean(axis=(1, 3)).ravel()
        return (cells / np.linalg.norm(cells)).astype(np.float32)


@pytest.fixture
def grey(monkeypatch, bio):
    monkeypatch.setitem(face_models.MODELS, GreyLevels.algorithm, GreyLevels)
    return service.Biometrics(
        keyring=bio.keyring, folder=bio.folder, face_model=face_models.face_model(GreyLevels.algorithm)
    )


def live(session, modality="face"):
    rows = session.execute(select(BiometricTemplate).where(BiometricTemplate.modality == modality)).scalars().all()
    return sorted((r.algorithm, r.retired_at is None) for r in rows)


def test_templates_of_another_model_are_never_compared(client, officer, session, db, bio, grey, face_png, face_again):
    first = enrol(client, officer, face_png)
    assert jobs.run_pending(db, bio)["processed"] == 1  # made by dlib's descriptor
    with db.transaction(readonly=True) as s:
        service.sync(s, grey)
        service.sync(s, bio)
    assert len(grey.face_index) == 0 and len(bio.face_index) == 1  # the other model's template is not loaded

    again = enrol(client, officer, face_again)
    assert jobs.run_pending(db, grey)["processed"] == 1  # made by the grey model: the first face is not searched
    session.expire_all()
    faces = (
        session.execute(
            select(BiometricCandidate).where(
                BiometricCandidate.encounter_id == again, BiometricCandidate.modality == "face"
            )
        )
        .scalars()
        .all()
    )
    assert faces == []
    assert live(session) == [("dlib-resnet-v1", True), ("test-grey-levels", True)]
    stored = session.execute(select(BiometricTemplate).where(BiometricTemplate.subject_id == again)).scalar_one()
    assert len(service.unseal(grey, stored)) == GreyLevels.dimensions * 4

    with db.transaction() as s:  # the grey model becomes the one: the dlib template is rebuilt from its image
        assert tools.reextract(s, grey, ADMIN) == 1
    session.expire_all()
    assert live(session) == [("dlib-resnet-v1", False), ("test-grey-levels", True), ("test-grey-levels", True)]
    with db.transaction(readonly=True) as s:
        service.sync(s, grey)
        service.sync(s, bio)
    assert len(grey.face_index) == 2 and len(bio.face_index) == 0  # each index holds only its model's templates
    probe = tools.probe_of("face", face_again, model=grey.face_model)
    assert {h.subject_id for h in grey.face_index.search(probe.vector, k=5)} == {first, again}


def test_an_unknown_face_model_is_refused_by_name(settings):
    with pytest.raises(face_models.UnknownFaceModel, match="known: dlib-resnet-v1"):
        service.Biometrics.from_settings(settings.model_copy(update={"face_model": "no-such-model"}))
