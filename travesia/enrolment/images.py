"""Uploaded images are decoded, not trusted: the bytes must be a real JPEG or PNG of sane size. Metadata (EXIF, with
GPS position and device serials) is dropped by re-encoding the pixels."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuses decompression bombs well before memory trouble
MIN_SIDE = 64
ALLOWED = {"JPEG": "jpeg", "PNG": "png"}


class ImageProblem(ValueError):
    pass


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
    import wsq  # noqa: F401  registers the WSQ codec with Pillow

    if not raw:
        raise ImageProblem("the file is empty")
    if len(raw) > MAX_BYTES:
        raise ImageProblem(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            kind = image.format or ""
            if kind not in FINGERPRINT_FORMATS:
                raise ImageProblem(f"{kind or 'this'} images are not accepted; use WSQ, PNG, TIFF or JPEG")
            if image.width * image.height > MAX_PIXELS:
                raise ImageProblem("the image has too many pixels")
            grey = image.convert("L")
    except ImageProblem:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem("the file is not a readable image") from exc
    if min(grey.width, grey.height) < MIN_SIDE:
        raise ImageProblem(f"the image is smaller than {MIN_SIDE}×{MIN_SIDE} pixels")
    if kind == "WSQ":
        return CleanImage(format="wsq", width=grey.width, height=grey.height, data=raw)
    out = io.BytesIO()
    if kind == "JPEG":
        grey.save(out, format="JPEG", quality=95)
    else:
        grey.save(out, format="PNG")
    return CleanImage(format=FINGERPRINT_FORMATS[kind], width=grey.width, height=grey.height, data=out.getvalue())


def displayable(wsq_image: bytes) -> bytes:
    """A stored WSQ fingerprint as PNG, for a reviewer's browser (stored images were checked at capture)."""
    import wsq  # noqa: F401  registers the WSQ codec with Pillow

    out = io.BytesIO()
    with Image.open(io.BytesIO(wsq_image)) as image:
        image.convert("L").save(out, format="PNG")
    return out.getvalue()


def clean_image(raw: bytes) -> CleanImage:
    if not raw:
        raise ImageProblem("the file is empty")
    if len(raw) > MAX_BYTES:
        raise ImageProblem(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                probe.verify()  # structure check without decoding
            with Image.open(io.BytesIO(raw)) as image:
                kind = image.format or ""
                if kind not in ALLOWED:
                    raise ImageProblem(f"{kind or 'this'} images are not accepted; use JPEG or PNG")
                if image.width * image.height > MAX_PIXELS:
                    raise ImageProblem("the image has too many pixels")
                image.load()
                pixels = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    except ImageProblem:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem("the file is not a readable image") from exc
    if min(pixels.width, pixels.height) < MIN_SIDE:
        raise ImageProblem(f"the image is smaller than {MIN_SIDE}×{MIN_SIDE} pixels")
    out = io.BytesIO()
    if kind == "JPEG":
        pixels.save(out, format="JPEG", quality=92)  # a new file: no EXIF, ICC or comments carried over
    else:
        pixels.save(out, format="PNG", optimize=False)
    return CleanImage(format=ALLOWED[kind], width=pixels.width, height=pixels.height, data=out.getvalue())
