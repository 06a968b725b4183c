"""Opening an image from outside, bounded: format, pixels and frames are checked from the header, before a single
pixel is decoded, so a few-kB file that claims 169 megapixels costs nothing. Every image path (API, pages, the
scanner's drop folder, partner NIST files, sync batches, the face and finger models) opens images here.

Pillow's ``Image.open`` reads only the header; its own decompression-bomb guard raises at twice
``MAX_IMAGE_PIXELS`` and warns above it; both become a refusal here, as does any failure while decoding."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

from travesia.core.errors import N_

MAX_PIXELS = 40_000_000  # a 12-megapixel camera's photo is well inside; a 1000 ppi ten-print card too
MAX_FRAMES = 1  # animated or multi-page files are not photos or fingerprints

DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class ImageRefused(ValueError):
    """Why an image is refused: ``code`` for programs, the message an English msgid (``N_``) the edge translates."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _register_wsq() -> None:
    import wsq  # noqa: F401  registers the WSQ codec with Pillow


@contextmanager
def opened(raw: bytes, formats: Sequence[str], *, max_pixels: int = MAX_PIXELS) -> Iterator[Image.Image]:
    """The image, its header checked; decoding inside the block is bounded by that check, and its failures become
    ImageRefused too. ``formats`` are Pillow's names (JPEG, PNG, WSQ, TIFF, BMP, PPM); no other parser runs."""
    if "WSQ" in formats:
        _register_wsq()
    if not raw:
        raise ImageRefused("empty", N_("The file is empty."))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw), formats=list(formats))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused("too_many_pixels", N_("The image has too many pixels.")) from None
        except DECODE_ERRORS:
            raise ImageRefused("unreadable", N_("The file is not a readable image of an accepted format.")) from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRefused("too_many_pixels", N_("The image has too many pixels."))
            if getattr(image, "n_frames", 1) > MAX_FRAMES:
                raise ImageRefused("frames", N_("The image has several frames or pages."))
            try:
                yield image
            except ImageRefused:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRefused("too_many_pixels", N_("The image has too many pixels.")) from None
            except DECODE_ERRORS:
                raise ImageRefused("unreadable", N_("The file is not a readable image.")) from None
