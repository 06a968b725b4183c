"""A fixed-length code for a fingerprint, to narrow a 1:N search before the minutiae matcher.

Bozorth3 compares two minutiae sets (~0.6 ms), so a full scan of a million fingers takes minutes. Like the
published indexing methods built on local minutia structures (Germain et al. 1997, triplets; Cappelli et al. 2011,
Minutia Cylinder-Code indexing), this code describes each minutia by its neighbours in the minutia's own frame
— distance, direction of the neighbour seen from the minutia, and difference of ridge directions — so it does not
change when the finger is moved or turned on the scanner. The quantised features of every (minutia, neighbour) pair
are counted in a histogram with soft votes in adjacent bins (absorbing skin distortion and angle noise); the
square-rooted, normalised histogram is the code, and the cosine of two codes ranks candidates. A full scan of codes
is one matrix product; the survivors are re-scored with Bozorth3.
"""

from __future__ import annotations

import numpy as np

VERSION = "pairhist-1"
NEIGHBOURS = 8
MIN_DISTANCE, MAX_DISTANCE = 10.0, 130.0
DISTANCE_BINS = 12
ANGLE_BINS = 12
DIMENSIONS = DISTANCE_BINS * ANGLE_BINS * ANGLE_BINS  # 1,728


def code(points: np.ndarray) -> np.ndarray:
    """points: (n, 3) array of x, y, angle in degrees → unit vector of DIMENSIONS float32 (zeros if too few)."""
    out = np.zeros(DIMENSIONS, dtype=np.float32)
    if len(points) < 3:
        return out
    xy = points[:, :2].astype(np.float64)
    theta = np.radians(points[:, 2].astype(np.float64))
    diff = xy[None, :, :] - xy[:, None, :]  # diff[i, j] = p_j - p_i
    dist = np.hypot(diff[..., 0], diff[..., 1])
    np.fill_diagonal(dist, np.inf)
    dist[dist < MIN_DISTANCE] = np.inf
    dist[dist > MAX_DISTANCE] = np.inf
    k = min(NEIGHBOURS, len(points) - 1)
    nearest = np.argsort(dist, axis=1)[:, :k]
    rows = np.repeat(np.arange(len(points)), k)
    cols = nearest.ravel()
    d = dist[rows, cols]
    keep = np.isfinite(d)
    rows, cols, d = rows[keep], cols[keep], d[keep]
    if len(d) == 0:
        return out
    # Image y grows downwards while ISO angles turn counter-clockwise: flip y to measure both the same way.
    direction = np.arctan2(-diff[rows, cols, 1], diff[rows, cols, 0])
    phi = np.mod(direction - theta[rows], 2 * np.pi) / (2 * np.pi) * ANGLE_BINS
    delta = np.mod(theta[cols] - theta[rows], 2 * np.pi) / (2 * np.pi) * ANGLE_BINS
    rho = (d - MIN_DISTANCE) / (MAX_DISTANCE - MIN_DISTANCE) * DISTANCE_BINS
    _vote(out, rho, phi, delta)
    np.sqrt(out, out=out)
    norm = float(np.linalg.norm(out))
    return out / norm if norm else out


def _vote(out: np.ndarray, rho: np.ndarray, phi: np.ndarray, delta: np.ndarray) -> None:
    """Trilinear soft votes: each pair spreads its weight over the two nearest bins of each feature (angles wrap
    around, distance is clamped)."""
    r0 = np.floor(rho - 0.5)
    p0 = np.floor(phi - 0.5)
    t0 = np.floor(delta - 0.5)
    rf, pf, tf = rho - 0.5 - r0, phi - 0.5 - p0, delta - 0.5 - t0
    for dr in (0, 1):
        r = np.clip(r0 + dr, 0, DISTANCE_BINS - 1).astype(np.int64)
        wr = rf if dr else 1 - rf
        for dp in (0, 1):
            p = np.mod(p0 + dp, ANGLE_BINS).astype(np.int64)
            wp = pf if dp else 1 - pf
            for dt in (0, 1):
                t = np.mod(t0 + dt, ANGLE_BINS).astype(np.int64)
                wt = tf if dt else 1 - tf
                np.add.at(out, (r * ANGLE_BINS + p) * ANGLE_BINS + t, (wr * wp * wt).astype(np.float32))
