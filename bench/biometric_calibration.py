"""Biometric scores as calibrated log-likelihood ratios (bits): fitted on one part of the real labelled images,
checked on the part the fit never saw, and written to travesia/biometrics/calibration.json with --write.

Each comparison score becomes log2(P(score | same person) / P(score | different persons)) by the pool-adjacent-
violators algorithm (scikit-learn's IsotonicRegression: the likelihood ratio rises with the score and is otherwise
free, Brümmer & du Preez 2006 / Zadrozny & Elkan 2002), with the two classes weighed equally so that the fitted
posterior odds are the likelihood ratio, and one pseudo-observation of each class at the far ends so that no score
claims infinite evidence: the strongest bits are bounded by the number of pairs of the other class.

* face (dlib's descriptor), LFW subset: identities split in two by a hash of their name; fitted on every genuine and
  impostor pair within one half, checked on the other half;
* finger, Bozorth3 and the second stage's score on Bozorth3's scale, FVC2002: fitted on DB1_B's pairs (the same
  part the second stage's normalisation was fitted on), checked on DB2_B + DB3_B.

The check: Cllr (the cost of the bits as evidence, Brümmer 2006; 0 is perfect, 1 is a system that says nothing),
the best Cllr any monotone recalibration of the held-out scores could reach (Cllr_min; the difference is the
miscalibration), and how often held-out impostors reach +10 bits (calibrated: about 2^-10 of them, or fewer).

Scores are cached (--cache, default /tmp/travesia-biometric-scores.npz): extraction takes ~8 minutes.

Run:  .venv/bin/python bench/biometric_calibration.py [--write]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import zlib
from pathlib import Path

import biometric_accuracy as accuracy
import numpy as np
from sklearn.isotonic import IsotonicRegression

from travesia.biometrics import evidence, face_models, finger_rescore

KNOTS = 60  # bits at this many score points are enough for a monotone curve between them


def face_pairs(ids: np.ndarray, vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Every pair's distance, genuine or not, and which half of the identities (by a hash of the name) it lies in;
    pairs across the halves are dropped."""
    half = np.array([zlib.crc32(i.encode()) % 2 for i in ids])
    out: dict[str, list] = {"distance": [], "genuine": [], "half": []}
    for h in (0, 1):
        chosen = np.flatnonzero(half == h)
        v, who = vectors[chosen], ids[chosen]
        sq = (v**2).sum(1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * v @ v.T, 0))
        upper = np.triu_indices(len(chosen), 1)
        out["distance"].append(d[upper])
        out["genuine"].append((who[:, None] == who[None, :])[upper])
        out["half"].append(np.full(len(upper[0]), h))
    return {k: np.concatenate(v) for k, v in out.items()}


def finger_pairs() -> dict[str, np.ndarray]:
    prints = accuracy.fingers()
    rows = [r for r in accuracy.csv.DictReader((accuracy.SHARED / "fvc2002" / "manifest.csv").open())]
    leader: dict[tuple[str, str], list[bytes]] = {}
    for row in rows:
        if row["synthetic"] == "0":
            image = (accuracy.SHARED / "fvc2002" / row["path"]).read_bytes()
            leader.setdefault((row["db"], row["finger_id"]), []).append(finger_rescore.extract(image))
    keys = sorted(prints)
    genuine, impostor = accuracy.pairs_of(keys, {k: len(prints[k]) for k in keys})
    pairs = genuine + impostor
    b3 = [accuracy.finger.compare(prints[a[0]][a[1]].template, prints[b[0]][b[1]].template) for a, b in pairs]
    geo = [finger_rescore.compare(leader[a[0]][a[1]], leader[b[0]][b[1]]) for a, b in pairs]
    return {
        "bozorth3": np.array(b3, float),
        "geometric": np.array(geo, float),
        "genuine": np.r_[np.ones(len(genuine), bool), np.zeros(len(impostor), bool)],
        "db": np.array([a[0][0] for a, _ in pairs]),
        "finger": np.array([a[0][1] for a, _ in pairs]),
    }


def scores(cache: Path) -> dict[str, np.ndarray]:
    if cache.exists():
        return dict(np.load(cache, allow_pickle=False))
    ids, vectors, _ = accuracy.faces(0)
    face = face_pairs(ids, vectors)
    finger = finger_pairs()
    out = {f"face_{k}": v for k, v in face.items()} | {f"finger_{k}": v for k, v in finger.items()}
    out |= {"face_ids": ids, "face_vectors": vectors}
    np.savez_compressed(cache, **out)
    return out


def fit(score: np.ndarray, genuine: np.ndarray) -> tuple[list[float], list[float]]:
    """PAV on (score, same person), classes weighed equally, one pseudo-observation of each class at the far ends;
    returns the curve's knots (score, bits), at most ``KNOTS`` of them, scores rising."""
    low, high = float(score.min()), float(score.max())
    x = np.r_[score, low, high]
    y = np.r_[genuine.astype(float), 1.0, 0.0]
    weight = np.where(y == 1, 1 / (genuine.sum() + 1), 1 / ((~genuine).sum() + 1))
    pav = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y, sample_weight=weight)
    xs, ps = pav.X_thresholds_, np.clip(pav.y_thresholds_, 1e-9, 1 - 1e-9)
    # PAV's answer is a staircase: scores on one step tie, and a ranking by bits would lose their order. Knots at
    # the middle of each step, linear between them, keep the steps' values and rank every score (Brümmer's
    # interpolated PAV); the two outer steps keep their bound value over their whole width.
    values, starts = np.unique(ps, return_index=True)
    ends = np.r_[starts[1:], len(xs)] - 1
    order = np.argsort(starts)
    middles = (xs[starts[order]] + xs[ends[order]]) / 2
    # the two outer steps hold the bound evidence from where the data reaches them
    middles[0], middles[-1] = xs[ends[order][0]], xs[starts[order][-1]]
    bits = np.log2(values[order] / (1 - values[order]))
    keep = np.unique(np.r_[0, np.linspace(0, len(middles) - 1, KNOTS).astype(int), len(middles) - 1])
    return [round(float(v), 4) for v in middles[keep]], [round(float(v), 3) for v in bits[keep]]


def cllr(bits_genuine: np.ndarray, bits_impostor: np.ndarray) -> float:
    return float(0.5 * (np.mean(np.log2(1 + 2.0**-bits_genuine)) + np.mean(np.log2(1 + 2.0**bits_impostor))))


def check(name: str, curve: evidence.Curve, score: np.ndarray, genuine: np.ndarray) -> dict[str, float]:
    bits = curve.bits(score)
    best = evidence.Curve(*fit(score, genuine))  # the held-out part's own PAV: the floor of Cllr
    low_bits = best.bits(score)
    row = {
        "cllr": cllr(bits[genuine], bits[~genuine]),
        "cllr_min": cllr(low_bits[genuine], low_bits[~genuine]),
        "impostors_at_10_bits": float(np.mean(bits[~genuine] >= 10)),
        "genuine_at_10_bits": float(np.mean(bits[genuine] >= 10)),
        "impostor_mean_bits": float(np.mean(bits[~genuine])),
        "genuine_mean_bits": float(np.mean(bits[genuine])),
    }
    print(
        f"{name:<34} held out: {genuine.sum():>6,} genuine, {(~genuine).sum():>9,} impostor pairs  "
        f"Cllr {row['cllr']:.3f} (min {row['cllr_min']:.3f})  mean bits genuine {row['genuine_mean_bits']:+.1f}, "
        f"impostor {row['impostor_mean_bits']:+.1f}  ≥ +10 bits: genuine {row['genuine_at_10_bits']:.1%}, "
        f"impostors {row['impostors_at_10_bits']:.2e} (calibrated: ≤ {2**-10:.1e})"
    )
    return row


def capture_correlation(data: dict[str, np.ndarray], score: np.ndarray, name: str, rounds: int = 300) -> None:
    """The part of the fingers' dependence that FVC2002 can show: FVC took each finger's eight impressions under
    the same instructions (normal, displaced, rotated, dry or wet skin), so the genuine scores of *different*
    fingers compared at the same impression pair (a, b) share the capture conditions, as one person's fingers taken
    in one session do. Their mean pairwise rank correlation (Spearman, raw scores: the bits stop at their cap), beside
    the same with each finger's pairs shuffled (no shared condition). What a person's fingers share beyond the
    conditions (skin, age, ridge width) is not in it: FVC2002 does not say which fingers are one person's."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)

    def mean_rho(rows: np.ndarray) -> float:
        matrix = spearmanr(rows, axis=1).statistic
        return float(np.mean(matrix[np.triu_indices(len(rows), 1)]))

    cells = []
    for db in ("DB1_B", "DB2_B", "DB3_B"):
        chosen = data["finger_genuine"] & (data["finger_db"] == db)
        fingers = data["finger_finger"][chosen]
        rows = np.array([score[chosen][fingers == f] for f in dict.fromkeys(fingers)])  # finger × (a, b) pairs
        shuffled = [mean_rho(np.array([rng.permutation(r) for r in rows])) for _ in range(rounds)]
        cells.append(f"{db} {mean_rho(rows):+.3f} (shuffled {np.mean(shuffled):+.3f} ± {np.std(shuffled):.3f})")
    print(f"fingers' shared capture conditions, {name}: rank correlation {'; '.join(cells)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/travesia-biometric-scores.npz"))
    parser.add_argument("--write", action="store_true", help="write travesia/biometrics/calibration.json")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"# python bench/biometric_calibration.py{' --write' if args.write else ''}")
    data = scores(args.cache)
    face_fit, face_held = data["face_half"] == 0, data["face_half"] == 1
    # distances fall as evidence rises: the curve is fitted on the negated distance
    negated = -data["face_distance"]
    rescored = np.array(
        [
            finger_rescore.on_bozorth3_scale(b, g)
            for b, g in zip(data["finger_bozorth3"], data["finger_geometric"], strict=True)
        ]
    )
    fit_db, held_db = data["finger_db"] == "DB1_B", data["finger_db"] != "DB1_B"
    parts = {
        f"face/{face_models.DEFAULT}": (negated, data["face_genuine"], face_fit, face_held),
        "finger/bozorth3": (data["finger_bozorth3"], data["finger_genuine"], fit_db, held_db),
        "finger/rescored": (rescored, data["finger_genuine"], fit_db, held_db),
    }
    curves, report = {}, {}
    for name, (score, genuine, fitted, held) in parts.items():
        xs, bits = fit(score[fitted], genuine[fitted])
        curves[name] = {"scores": xs, "bits": bits, "fitted_on": int(fitted.sum())}
        report[name] = check(name, evidence.Curve(xs, bits), score[held], genuine[held])
    capture_correlation(data, data["finger_bozorth3"], "Bozorth3")
    capture_correlation(data, rescored, "second stage")
    if args.write:
        evidence.CALIBRATION.write_text(json.dumps({"curves": curves}, indent=1) + "\n")
        print(f"written to {evidence.CALIBRATION}")


if __name__ == "__main__":
    main()
