"""Uploaded images are decoded, not trusted: the bytes must be a real JPEG or PNG of sane size. Metadata (EXIF, with
GPS position and device serials) is dropped by re-encoding the pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

from travesia.core.errors import N_, RuleProblem
from travesia.core.images import ImageRefused, opened

MAX_BYTES = 8 * 1024 * 1024
MIN_SIDE = 64
ALLOWED = {"JPEG": "jpeg", "PNG": "png"}


class ImageProblem(RuleProblem):
    """Why an uploaded image is refused: a msgid and its parameters, translated at the edge (``str()`` in English)."""


@dataclass(frozen=True)
class CleanImage:
    format: str
    width: int
    height: int
    data: bytes


FINGERPRINT_FORMATS = {"WSQ": "wsq", "PNG": "png", "TIFF": "png", "BMP": "png", "JPEG": "jpeg"}


def clean_fingerprint(raw: bytes) -> CleanImage:
    """A fingerprint image: WSQ (the FBI's scanner format) is kept byte for byte once it decodes, since
    re-compressing would lose ridge detail and WSQ carries no EXIF; lossless formats become an 8-bit grey PNG."""
    _check_size(raw)
    try:
        with opened(raw, list(FINGERPRINT_FORMATS)) as image:
            kind = image.format or ""
            grey = image.convert("L")
    except ImageRefused as refused:
        raise _problem(refused, "WSQ, PNG, TIFF, JPEG") from None
    if min(grey.width, grey.height) < MIN_SIDE:
        raise ImageProblem(N_("The image is smaller than %(side)s×%(side)s pixels."), side=MIN_SIDE)
    if kind == "WSQ":
        return CleanImage(format="wsq", width=grey.width, height=grey.height, data=raw)
    out = io.BytesIO()
    if kind == "JPEG":
        grey.save(out, format="JPEG", quality=95)
    else:
        grey.save(out, format="PNG")
    return CleanImage(format=FINGERPRINT_FORMATS[kind], width=grey.width, height=grey.height, data=out.getvalue())


def _check_size(raw: bytes) -> None:
    if not raw:
        raise ImageProblem(N_("The file is empty."))
    if len(raw) > MAX_BYTES:
        raise ImageProblem(N_("The file is larger than %(mb)s MB."), mb=MAX_BYTES // (1024 * 1024))


def _problem(refused: ImageRefused, accepted: str) -> ImageProblem:
    if refused.code == "unreadable":
        return ImageProblem(N_("The file is not a readable image; use %(formats)s."), formats=accepted)
    return ImageProblem(str(refused))


def displayable(wsq_image: bytes) -> bytes:
    """A stored WSQ fingerprint as PNG, for a reviewer's browser (stored images were checked at capture)."""
    out = io.BytesIO()
    with opened(wsq_image, ["WSQ"]) as image:
        image.convert("L").save(out, format="PNG")
    return out.getvalue()


def clean_image(raw: bytes) -> CleanImage:
    _check_size(raw)
    try:
        with opened(raw, list(ALLOWED)) as image:
            kind = image.format or ""
            image.load()
            pixels = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    except ImageRefused as refused:
        raise _problem(refused, "JPEG, PNG") from None
    if min(pixels.width, pixels.height) < MIN_SIDE:
        raise ImageProblem(N_("The image is smaller than %(side)s×%(side)s pixels."), side=MIN_SIDE)
    out = io.BytesIO()
    if kind == "JPEG":
        pixels.save(out, format="JPEG", quality=92)  # a new file: no EXIF, ICC or comments carried over
    else:
        pixels.save(out, format="PNG", optimize=False)
    return CleanImage(format=ALLOWED[kind], width=pixels.width, height=pixels.height, data=out.getvalue())
