"""Open-set 1:N identification with a gallery of 100,000: face + two fingers + names, by calibrated bits.

What it measures: FNIR (a mated search whose mate is not first, or is first below the threshold) at FPIR (a
non-mated search that returns anyone above the threshold) of 1e-3 and 1e-2, for each modality alone and together,
with the bits the biometric step and the screening model give (travesia.biometrics.evidence; the screening
model's name weight), summed as the step sums them (the two fingers scaled for their dependence).

How, and what that assumes (said here and in docs/benchmarks.md):
* a score-level model of the search, not a run of the indexes: every one of the N gallery entries is compared with
  the probe in every modality (the indexes' own losses are measured by bench/biometric_search.py);
* real comparison scores only, from the parts the calibration never saw: faces, LFW's held-out half of identities
  (genuine and impostor pairs); fingers, FVC2002 DB2_B + DB3_B (Bozorth3, and the second stage); names, real
  persons of the held-out fifth of ../shared/data/names, a probe written in another script (Hebrew, Korean,
  Arabic, Cyrillic, Chinese, Japanese) than the gallery's Latin name — the hardest case, and all this data has;
* chimeric persons: a mate's face, two fingers and name come from unrelated identities (no set holds all four), so
  the modalities are independent by construction; the two fingers' dependence scaling is applied all the same;
* the N distractors are draws from those impostor scores (synthetic gallery entries with real impostor scores):
  the max of N fused impostor scores is computed exactly from the modality histograms (convolved on a 1/64-bit grid)
  as 1 - (1 - P(S >= t))^N. FPIR 1e-3 at N = 100,000 needs the impostor tail near 1e-8 a comparison, far deeper
  than 5,760 finger impostor pairs reach: beyond the 50 highest impostor pairs of each modality the tail is read
  off the genuine pairs (a calibrated likelihood ratio b makes impostors 2^-b as dense as genuine pairs at b), so
  the figures are as good as the held-out calibration (bench/biometric_calibration.py) — and a modality's bounded
  bits cap what it can show: no finger alone rises above ~11 bits, one in 2,000 comparisons.

Also, for each matcher, verification (one comparison, not a search) with one, two and four fingers in bits: FNMR at
FMR 1e-3, 1e-4 and 1e-6, each finger of a chimeric person a different held-out FVC identity, drawn over every
combination of the 20 held-out fingers; impostor sums convolved as above; and two fingers resampled without the
convolution's tail, raw scores beside bits, to show what the bits' cap costs.

Run:  .venv/bin/python bench/biometric_openset.py [--gallery 100000] (needs bench/biometric_calibration.py's cache)
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from pathlib import Path

import numpy as np
import screening as names_bench

from travesia.biometrics import evidence, face_models, finger_rescore

STEP = 1 / 64  # bits per histogram bin
MATED = 200_000  # chimeric mated searches drawn


def name_bits(pairs: int, seed: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Name-only weight of the screening model: a held-out person's name in another script against the same
    person's Latin name (genuine) and against another held-out person's (impostor)."""
    if cache.exists():
        data = np.load(cache)
        return data["genuine"], data["impostor"]
    from travesia.screening import scoring

    persons = names_bench.unique_names(names_bench.real_persons(names_bench.HELD_OUT))
    rng = random.Random(seed)
    chosen = rng.sample(persons, min(pairs, len(persons)))
    model = scoring.default_model()

    def weight(native: str, latin: str) -> float:
        scored = scoring.score(names_bench.name_only("q", native), names_bench.name_only("c", latin), model)
        return scored.bits

    genuine = np.array([weight(native, latin) for _, latin, native in chosen])
    others = [p[1] for p in rng.sample(persons, min(20 * pairs, len(persons)))]
    impostor = np.array([weight(native, rng.choice(others)) for _, _, native in chosen for _ in range(20)])
    np.savez_compressed(cache, genuine=genuine, impostor=impostor)
    return genuine, impostor


def histogram(bits: np.ndarray) -> tuple[int, np.ndarray]:
    """(offset, probabilities) of bits on the grid: bin i holds offset + i steps."""
    cells = np.round(bits / STEP).astype(int)
    low = int(cells.min())
    counts = np.bincount(cells - low).astype(float)
    return low, counts / counts.sum()


def impostor_histogram(impostor: np.ndarray, genuine: np.ndarray, enough: int = 50) -> tuple[int, np.ndarray]:
    """Impostor bits: measured where enough pairs were, and beyond, from the genuine bits by the identity of a
    calibrated likelihood ratio (at bits b, impostors are 2^-b as dense as genuine pairs): the tail a million
    impostor comparisons would need to see, read off the well-sampled genuine side."""
    start = float(np.sort(impostor)[-enough])  # below: at least ``enough`` impostor pairs measured
    g_low, g = histogram(genuine)
    i_low, body = histogram(impostor[impostor < start])
    low = min(g_low, i_low)
    size = max(g_low + len(g), i_low + len(body)) - low
    out = np.zeros(size)
    values = (g_low + np.arange(len(g))) * STEP
    tail = np.where(values >= start, g * 2.0**-values, 0.0)
    out[g_low - low : g_low - low + len(g)] += tail
    out[i_low - low : i_low - low + len(body)] += body * (1 - tail.sum())
    return low, out


def convolve(*parts: tuple[int, np.ndarray]) -> tuple[int, np.ndarray]:
    low, probabilities = parts[0]
    for other_low, other in parts[1:]:
        low, probabilities = low + other_low, np.convolve(probabilities, other)
    return low, probabilities


def scaled(part: tuple[int, np.ndarray], factor: float) -> tuple[int, np.ndarray]:
    """The distribution of factor × X from that of X (the two fingers' sum, scaled for their dependence)."""
    low, probabilities = part
    cells = np.round((low + np.arange(len(probabilities))) * factor).astype(int)
    out = np.zeros(int(cells.max()) - int(cells.min()) + 1)
    np.add.at(out, cells - int(cells.min()), probabilities)
    return int(cells.min()), out


def identification(impostor: tuple[int, np.ndarray], mated: np.ndarray, gallery: int) -> dict[str, tuple[float, float]]:
    """FNIR at FPIR 1e-3 and 1e-2 (and the threshold, in bits) for N = ``gallery`` distractors."""
    low, probabilities = impostor
    # P(S >= bin j), one bin past the top (above every impostor score measured: P = 0)
    at_least = np.r_[np.cumsum(probabilities[::-1])[::-1], 0.0]
    none_at_or_above = np.exp(gallery * np.log1p(-np.minimum(at_least, 1 - 1e-16)))
    fpir = 1 - none_at_or_above
    first_at_or_above = np.clip(np.ceil(mated / STEP).astype(int) - low, 0, len(at_least) - 1)
    beats = none_at_or_above[first_at_or_above]  # every distractor below the mate (a tie counts against it)
    out = {}
    for target in (1e-3, 1e-2):
        index = int(np.argmax(fpir <= target))  # the lowest threshold with FPIR at or under the target
        threshold = (low + index) * STEP
        found = np.where(mated >= threshold, beats, 0.0)
        out[f"{target:g}"] = (float(1 - found.mean()), threshold)
    return out


def verification(impostor: tuple[int, np.ndarray], mated: np.ndarray, fmr: float) -> tuple[float, float]:
    """FNMR at a false match rate (one comparison, not a search) and the threshold in bits."""
    low, probabilities = impostor
    at_least = np.r_[np.cumsum(probabilities[::-1])[::-1], 0.0]
    index = int(np.argmax(at_least <= fmr))
    threshold = (low + index) * STEP
    return float(np.mean(mated < threshold)), threshold


def several_fingers(
    bits: np.ndarray, raw: np.ndarray, truth: np.ndarray, finger_ids: np.ndarray, rng: np.random.Generator
) -> None:
    """One, two and four fingers, each of a different FVC identity (chimeric persons: FVC2002 holds no person's
    several fingers); genuine sums drawn over every combination of the held-out fingers, impostor sums convolved.
    Then two fingers resampled without the convolution's tail, raw scores beside bits: what the bits' cap costs."""
    by_finger = [np.flatnonzero((finger_ids == f) & truth) for f in np.unique(finger_ids)]
    single = impostor_histogram(bits[~truth], bits[truth])
    picks = {}
    for count in (1, 2, 4):
        chosen = np.argsort(rng.random((MATED, len(by_finger))), axis=1)[:, :count]  # distinct identities a draw
        picks[count] = [np.array([rng.choice(by_finger[k]) for k in chosen[:, slot]]) for slot in range(count)]
        mated = sum(bits[pick] for pick in picks[count])
        cells = [verification(convolve(*[single] * count), mated, fmr) for fmr in (1e-3, 1e-4, 1e-6)]
        print(f"  {count} finger{'s' if count > 1 else ' '}: " + "; ".join(
            f"FNMR {fnmr:6.2%} @ FMR {fmr:g} (t {t:+5.1f} bits)"
            for (fnmr, t), fmr in zip(cells, (1e-3, 1e-4, 1e-6), strict=True)
        ))  # fmt: skip
    impostors = [rng.choice(np.flatnonzero(~truth), 10 * MATED) for _ in range(2)]
    for label, values in (("raw scores", raw), ("bits", bits)):
        genuine = sum(values[pick] for pick in picks[2])
        impostor = sum(values[pick] for pick in impostors)
        cells = []
        for fmr in (1e-3, 1e-4):
            threshold = np.quantile(impostor, 1 - fmr, method="higher")  # a tie with it is not a match
            cells.append(f"FNMR {np.mean(genuine <= threshold):6.2%} @ FMR {fmr:g}")
        print(f"  2 fingers resampled ({10 * MATED:,} impostor pairs), {label}: {'; '.join(cells)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", type=int, default=100_000)
    parser.add_argument("--scores", type=Path, default=Path("/tmp/travesia-biometric-scores.npz"))
    parser.add_argument("--names", type=Path, default=Path("/tmp/travesia-name-bits.npz"))
    parser.add_argument("--name-pairs", type=int, default=3000)
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"# python bench/biometric_calibration.py && python bench/biometric_openset.py --gallery {args.gallery}")
    data = dict(np.load(args.scores))
    rng = np.random.default_rng(7)
    held = data["face_half"] == 1
    face = evidence.curves()[f"face/{face_models.DEFAULT}"].bits(-data["face_distance"][held])
    face_g, face_i = face[data["face_genuine"][held]], face[~data["face_genuine"][held]]
    fingers_held = data["finger_db"] != "DB1_B"
    truth = data["finger_genuine"][fingers_held]
    b3 = data["finger_bozorth3"][fingers_held]
    rescored = np.array([finger_rescore.on_bozorth3_scale(b, g) for b, g in zip(b3, data["finger_geometric"][fingers_held], strict=True)])  # fmt: skip
    finger_ids = data["finger_finger"][fingers_held]
    started = time.perf_counter()
    names_g, names_i = name_bits(args.name_pairs, 11, args.names)
    print(
        f"names: {len(names_g):,} genuine, {len(names_i):,} impostor name-only comparisons ({time.perf_counter() - started:.0f} s)"
    )
    scale = evidence.dependence_scale([2, 7])  # the two index fingers a field station takes
    # mated: two fingers of two different FVC identities (chimeric), each a genuine pair of its own identity
    by_finger = {f: np.flatnonzero((finger_ids == f) & truth) for f in np.unique(finger_ids)}
    keys = list(by_finger)
    first = rng.integers(len(keys), size=MATED)
    second = (first + rng.integers(1, len(keys), size=MATED)) % len(keys)
    pick = lambda chosen: np.array([rng.choice(by_finger[keys[k]]) for k in chosen])  # noqa: E731
    f1, f2 = pick(first), pick(second)
    mated_face = rng.choice(face_g, MATED)
    mated_names = rng.choice(names_g, MATED)
    print(f"gallery {args.gallery:,} (real impostor scores drawn for each), {MATED:,} chimeric mated searches; "
          f"held out: {len(face_g):,}/{len(face_i):,} face, {truth.sum():,}/{(~truth).sum():,} finger, "
          f"{len(names_g):,}/{len(names_i):,} name pairs (genuine/impostor); two fingers x{scale:.3f}")  # fmt: skip
    face_h, names_h = impostor_histogram(face_i, face_g), impostor_histogram(names_i, names_g)
    print(f"{'modalities':<44} {'FNIR @ FPIR 1e-3':>18} {'FNIR @ FPIR 1e-2':>18}")
    for matcher, finger_scores in (("Bozorth3", b3), ("second stage", rescored)):
        bits = evidence.curves()["finger/rescored" if matcher == "second stage" else "finger/bozorth3"].bits(
            finger_scores
        )
        print(f"verification, {matcher} bits ({len(np.unique(finger_ids))} held-out fingers, {MATED:,} draws each):")
        several_fingers(bits, finger_scores, truth, finger_ids, rng)
        finger_i = impostor_histogram(bits[~truth], bits[truth])
        two_i = scaled(convolve(finger_i, finger_i), scale)
        mated_two = (bits[f1] + bits[f2]) * scale
        rows = {
            f"one finger ({matcher})": (finger_i, bits[f1]),
            f"two fingers ({matcher})": (two_i, mated_two),
            f"face + two fingers ({matcher})": (convolve(face_h, two_i), mated_face + mated_two),
            f"face + two fingers + names ({matcher})": (
                convolve(face_h, two_i, names_h),
                mated_face + mated_two + mated_names,
            ),
        }
        if matcher == "Bozorth3":
            rows = {
                "face alone": (face_h, mated_face),
                "names alone": (names_h, mated_names),
            } | rows
        for name, (impostor, mated) in rows.items():
            result = identification(impostor, mated, args.gallery)
            cells = [f"{fnir:7.2%} (t {t:+6.1f} bits)" for fnir, t in result.values()]
            print(f"{name:<44} {cells[0]:>18} {cells[1]:>18}")


if __name__ == "__main__":
    main()
