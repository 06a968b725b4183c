"""Flat slaps composed from single prints, for tests and bench/slap_segmentation.py: no real slap image is at hand,
so the fingertips of separate prints (synthetic ones, or FVC2002's real ones read in place) are laid side by side on
white glass the way a hand lies on a scanner — staggered, tilted, touching where ``gap`` is small enough."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

LIFT = (60, 0, 20, 80)  # the middle finger reaches highest, the little finger lowest (right hand, left to right)
TILT = (8, 4, -2, -8)


def fingertip(raw: bytes, tilt: float, oval: bool) -> np.ndarray:
    """A print as dark ridges on white; ``oval`` cuts a square synthetic print to a fingertip's shape."""
    image = Image.open(io.BytesIO(raw)).convert("L")
    if oval:
        shape = Image.new("L", image.size, 0)
        w, h = image.size
        ImageDraw.Draw(shape).ellipse((0.15 * w, 0.02 * h, 0.85 * w, 1.1 * h), fill=255)
        image = Image.composite(image, Image.new("L", image.size, 255), shape)
    return np.asarray(image.rotate(tilt, Image.Resampling.BICUBIC, expand=True, fillcolor=255))


def compose(
    prints: Sequence[bytes],
    gap: int = 20,
    oval: bool = False,
    lift: Sequence[int] = LIFT,
    tilt: Sequence[float] = TILT,
) -> bytes:
    """A slap of ``prints`` left to right, ``gap`` pixels between their frames (negative: overlapping frames)."""
    tips = [fingertip(raw, t, oval) for raw, t in zip(prints, tilt, strict=False)]
    width = sum(t.shape[1] for t in tips) + gap * (len(tips) - 1) + 200
    height = max(t.shape[0] for t in tips) + max(lift) + 200
    glass = np.full((height, width), 255, np.uint8)
    x = 100
    for tip, dy in zip(tips, lift, strict=False):
        region = glass[100 + dy : 100 + dy + tip.shape[0], x : x + tip.shape[1]]
        np.minimum(region, tip, out=region)  # ink on ink where two fingers touch
        x += tip.shape[1] + gap
    out = io.BytesIO()
    Image.fromarray(glass).save(out, format="PNG")
    return out.getvalue()
