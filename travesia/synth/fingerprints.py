"""Synthetic fingerprint images for tests, demos and load, with no real person behind them.

The model is Larkin and Fletcher's "fingerprint as a hologram" (JOSA A 24(4), 2007): a ridge pattern is the cosine
of a phase made of a smooth part (here concentric, slightly elliptic ridges around a core, bent by a low-frequency
warp) plus spiral phase terms ±atan2 around chosen points, and every spiral point is a minutia (a ridge ending or
a bifurcation). A finger is a seed; an impression is the same finger moved, turned, pressed (elastic warp), cropped
and noised, as on a scanner."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

SIZE = 320
RIDGE_PERIOD = 9.0  # pixels at 500 ppi


def finger_phase(seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The finger itself: the phase on a grid a little larger than the image, and the minutiae positions."""
    rng = np.random.default_rng(seed)
    grid = size + 80
    y, x = np.mgrid[0:grid, 0:grid].astype(np.float64)
    cx, cy = grid / 2 + rng.uniform(-25, 25, 2)
    squash = rng.uniform(0.75, 1.0)
    tilt = rng.uniform(0, np.pi)
    dx, dy = x - cx, y - cy
    u = dx * np.cos(tilt) + dy * np.sin(tilt)
    v = (-dx * np.sin(tilt) + dy * np.cos(tilt)) / squash
    radius = np.hypot(u, v)
    warp = sum(
        rng.uniform(4, 12) * np.sin(x / rng.uniform(40, 90) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(40, 90))
        for _ in range(3)
    )
    phase = 2 * np.pi * (radius + warp) / RIDGE_PERIOD
    count = rng.integers(30, 50)
    points = rng.uniform(40, grid - 40, size=(count, 2))
    signs = rng.choice([-1.0, 1.0], size=count)
    for (px, py), sign in zip(points, signs, strict=True):
        phase += sign * np.arctan2(y - py, x - px)
    return phase, points


def impression(seed: int, take: int, size: int = SIZE) -> bytes:
    """One capture of finger ``seed`` as PNG bytes; ``take`` picks the placement, pressure and noise."""
    phase, _ = finger_phase(seed, size)
    rng = np.random.default_rng((seed, take))
    angle = np.radians(rng.uniform(-12, 12)) if take else 0.0
    shift = rng.uniform(-15, 15, 2) if take else np.zeros(2)
    grid = phase.shape[0]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    cx = cy = size / 2
    # Where each image pixel falls on the finger: turned and moved, with a gentle elastic pull (pressure).
    xs = np.cos(angle) * (x - cx) - np.sin(angle) * (y - cy) + grid / 2 + shift[0]
    ys = np.sin(angle) * (x - cx) + np.cos(angle) * (y - cy) + grid / 2 + shift[1]
    if take:
        xs += rng.uniform(-2, 2) * np.sin(ys / 70)
        ys += rng.uniform(-2, 2) * np.sin(xs / 70)
    xi = np.clip(np.round(xs).astype(int), 0, grid - 1)
    yi = np.clip(np.round(ys).astype(int), 0, grid - 1)
    ridges = np.cos(phase[yi, xi])
    # The finger's outline: an ellipse fading to the background, as a fingertip pressed on glass.
    outline = np.clip(1.3 - np.hypot((x - cx) / (size * 0.42), (y - cy) / (size * 0.5)), 0, 1)
    noise = rng.normal(0, 0.25 if take else 0.1, ridges.shape)
    grey = 255 - (ridges * 0.5 + 0.5 + noise * 0.3) * outline * 200
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), mode="L")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
