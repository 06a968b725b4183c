"""Flat slaps (the 4-4-2 capture of a field station's scanner) split into one image per finger.

A slap is one image of several fingers pressed at once: ISO/IEC 19794-4 and ANSI/NIST-ITL give it its own finger
position code — 13 the right four fingers, 14 the left four, 15 both thumbs — and every entry point accepts it under
that code (``fingerprint_13`` in the API and the form, ``<id>_13.png`` in the scanner's folder). The fingers are found
where the image has ridge contrast (the standard deviation of 8×8-pixel blocks, at the 500 ppi scanners give);
fingers that touch are told apart where the top edge of their shape dips between two fingertips; and they are named
left to right as they lie on the glass: a right hand, palm down, has its thumb on the left, so index, middle, ring,
little; a left hand little to index; the thumbs, left then right (the FBI card's bottom row).

Nothing is guessed: a finger recorded as not taken (amputated, injured) is left out of the names before they are
given, and a slap where the count found is not the count expected is refused — retaken, or split finger by finger —
rather than named by chance. NIST's NFSEG does this job in C; no Python package ships it, so this is our own.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Collection, Iterable, Mapping

import numpy as np
from PIL import Image

# scipy is imported in the functions that use it: at import it cost every process ~0.8 s of its start, for slaps
# that few registrations carry.
from travesia.core.errors import N_, RuleProblem
from travesia.core.images import ImageRefused, opened
from travesia.enrolment.images import CleanImage
from travesia.enrolment.rules import CaptureProblem

SLAPS: dict[int, tuple[int, ...]] = {  # slap code -> finger positions, left to right in the image
    13: (2, 3, 4, 5),
    14: (10, 9, 8, 7),
    15: (6, 1),
}
BLOCK = 8  # pixels; a ridge and a valley at 500 ppi are about 9 pixels, so a block holds one or two
CONTRAST = 0.3  # of the contrast inside the fingers (95th percentile of block deviations): below it is glass
MIN_FINGER_BLOCKS = 100  # ~80×80 pixels at 500 ppi: smaller is dirt or a fingertip's edge, not a finger
MIN_SHARE = 0.2  # a finger has at least this share of the largest finger's area; smaller pieces are not counted
MIN_DIP = 3  # blocks (~24 pixels, 1.2 mm) the top edge must fall between two fingertips to count as a parting
MIN_WIDTH = 8  # blocks (~64 pixels): no finger is narrower, so two dips are at least this far apart
TIP_RATIO = 1.6  # the fingertip kept: at most this many widths from the top (the rest is the finger's lower joints)


class SlapProblem(RuleProblem):
    """Why a slap could not be split: a msgid and its parameters, translated at the edge."""


def exempt_positions(exemptions: Iterable[object]) -> set[int]:
    """The finger positions recorded as not taken, from the form's or API's exemptions or a stored record's."""
    found = set()
    for item in exemptions:
        modality, position = (
            (item.get("modality"), item.get("finger_position"))
            if isinstance(item, Mapping)
            else (getattr(item, "modality", None), getattr(item, "finger_position", None))
        )
        if modality == "finger" and isinstance(position, int):
            found.add(position)
    return found


def expanded(fingerprints: Mapping[int, CleanImage], exempt: Collection[int]) -> dict[int, CleanImage]:
    """The fingers as single images: those sent alone as they came, each slap (13-15) replaced by its fingers. A
    finger that comes twice (alone and on a slap) is refused on the slap's field, not silently chosen."""
    singles = {position: image for position, image in fingerprints.items() if position not in SLAPS}
    for code in sorted(set(fingerprints) & set(SLAPS)):
        field = f"fingerprint_{code}"
        try:
            fingers = split(fingerprints[code].data, code, exempt)
        except SlapProblem as problem:
            raise CaptureProblem(field, problem.message, **problem.params) from None
        for position, image in fingers.items():
            if position in singles:
                raise CaptureProblem(field, N_("Finger %(position)s was sent alone and on a slap."), position=position)
            singles[position] = image
    return singles


def sent_as(field: str, sent: Collection[int]) -> str:
    """The field a problem belongs to as the officer sent it: a finger cut from a slap is the slap's field."""
    position = int(field.removeprefix("fingerprint_")) if field.removeprefix("fingerprint_").isdigit() else None
    if position is None or position in sent:
        return field
    return next((f"fingerprint_{code}" for code in sorted(sent) if position in SLAPS.get(code, ())), field)


def positions(code: int, exempt: Collection[int]) -> tuple[int, ...]:
    """The fingers a slap should show: its own, less those recorded as not taken."""
    return tuple(p for p in SLAPS[code] if p not in exempt)


def split(raw: bytes, code: int, exempt: Collection[int] = ()) -> dict[int, CleanImage]:
    """The slap's fingers by position, left to right, as 8-bit grey PNG crops of the fingertip."""
    expected = positions(code, exempt)
    if not expected:
        raise SlapProblem(N_("Every finger of this slap is recorded as not taken."))
    grey = _grey(raw)
    labels, count = _fingers(grey)
    if count != len(expected):
        raise SlapProblem(
            N_(
                "%(found)s fingers were found on this slap where %(expected)s were expected: retake it, or send the "
                "fingers one by one."
            ),
            found=count,
            expected=len(expected),
        )
    order = _left_to_right(labels, count)
    return {position: _crop(grey, labels == label) for label, position in zip(order, expected, strict=True)}


def _grey(raw: bytes) -> np.ndarray:
    try:
        with opened(raw, ["WSQ", "PNG", "TIFF", "BMP", "JPEG"]) as image:
            return np.asarray(image.convert("L"), dtype=np.float32)
    except ImageRefused as refused:
        raise SlapProblem(str(refused)) from None


def _fingers(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """A label per pixel block (0 the glass) and how many fingers were found. Fingers that touch make one shape on
    the glass; its top edge still dips between their tips (each fingertip is a dome), so each shape is cut at dips
    deep enough, as NIST's NFSEG reads the tips. A piece much smaller than the largest finger (dirt, a fingertip
    that barely touched) is not counted. What is counted is never forced to the count expected."""
    shapes, count = _shapes(_ridge_mask(grey))
    pieces = [piece for shape in range(1, count + 1) for piece in _cut_at_dips(shapes == shape)]
    largest = max((int(piece.sum()) for piece in pieces), default=0)
    fingers = [piece for piece in pieces if piece.sum() >= max(MIN_FINGER_BLOCKS, MIN_SHARE * largest)]
    labels = np.zeros(shapes.shape, dtype=int)
    for n, finger in enumerate(fingers, start=1):
        labels[finger] = n
    return labels, len(fingers)


def _cut_at_dips(shape: np.ndarray) -> list[np.ndarray]:
    """One shape's fingers: cut at each dip of its top edge that lies at least MIN_DIP below the lower of the two
    tips beside it. Above the dip the blocks are plainly one finger's; below it, each block goes to the nearer one."""
    from scipy import ndimage, signal

    cols = np.flatnonzero(shape.any(axis=0))
    left, right = cols[0], cols[-1] + 1
    own = shape[:, left:right]
    top = np.where(own.any(axis=0), own.argmax(axis=0), own.shape[0]).astype(float)
    top = ndimage.median_filter(top, size=3, mode="nearest")  # a ragged block at the edge is not a dip
    dips, _ = signal.find_peaks(top, prominence=MIN_DIP, distance=MIN_WIDTH)
    if len(dips) == 0:
        return [shape]
    bounds = [0, *dips.tolist(), own.shape[1]]
    seeds = np.zeros(shape.shape, dtype=int)
    for n, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        level = max(top[a] if a > 0 else 0, top[b] if b < own.shape[1] else 0)  # the deeper of its own dips
        rows = np.arange(shape.shape[0])[:, None] < level
        seeds[:, left + a : left + b] = np.where(shape[:, left + a : left + b] & rows, n, 0)
    grown = _grown(shape, seeds)
    return [grown == n for n in range(1, len(bounds))]


def _ridge_mask(grey: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    rows, cols = grey.shape[0] // BLOCK, grey.shape[1] // BLOCK
    if rows < 2 or cols < 2:
        raise SlapProblem(N_("The image is too small to hold a slap."))
    blocks = grey[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK)
    deviation = blocks.std(axis=(1, 3))
    inside = float(np.percentile(deviation, 95))
    if inside < 8:  # a blank or uniform image: no ridges anywhere
        return np.zeros_like(deviation, dtype=bool)
    mask = deviation > CONTRAST * inside
    mask = ndimage.binary_closing(mask, iterations=2)
    mask = ndimage.binary_fill_holes(mask)
    return ndimage.binary_opening(mask, iterations=1)


def _shapes(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The mask's connected shapes large enough to hold a finger, labelled 1..n."""
    from scipy import ndimage

    labels, count = ndimage.label(mask)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    keep = np.flatnonzero(sizes >= MIN_FINGER_BLOCKS) + 1
    relabelled = np.zeros_like(labels)
    for new, old in enumerate(keep, start=1):
        relabelled[labels == old] = new
    return relabelled, len(keep)


def _grown(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Every block of the mask takes the label of its nearest seed, so parted fingers get their edges back."""
    from scipy import ndimage

    _, (rows, cols) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    return np.where(mask, seeds[rows, cols], 0)


def _left_to_right(labels: np.ndarray, count: int) -> list[int]:
    from scipy import ndimage

    centres = ndimage.center_of_mass(labels > 0, labels, range(1, count + 1))
    return [label for _, label in sorted((col, i + 1) for i, (_, col) in enumerate(centres))]


def _crop(grey: np.ndarray, blocks: np.ndarray) -> CleanImage:
    """The fingertip: the finger's own pixels (its neighbours' blanked to white) from its top down, at most
    TIP_RATIO widths long."""
    from scipy import ndimage

    own = np.kron(ndimage.binary_dilation(blocks), np.ones((BLOCK, BLOCK), dtype=bool))
    own = np.pad(own, ((0, grey.shape[0] - own.shape[0]), (0, grey.shape[1] - own.shape[1])))
    rows, cols = np.nonzero(own)
    top, left, right = rows.min(), cols.min(), cols.max() + 1
    bottom = min(rows.max() + 1, top + int(TIP_RATIO * (right - left)))
    tip = np.where(own, grey, 255.0)[top:bottom, left:right]
    return CleanImage("png", right - left, bottom - top, _png(tip.astype(np.uint8)))


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, format="PNG")
    return out.getvalue()
