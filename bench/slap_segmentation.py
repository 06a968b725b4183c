"""Flat slaps split into fingers (travesia/enrolment/slaps.py): is each finger found, named right, and still the same
finger for the matcher — and what does the split cost?

No real slap image is at hand (FVC2002 holds one fingertip an image), so slaps are composed from real prints:
four different fingers of one FVC2002 database (DB1_B, DB2_B, DB3_B; the last two normalised to white glass) laid
side by side as a right hand lies on a scanner — staggered, tilted by up to 10°, the gap between frames drawn so that
some fingertips touch. Each crop is compared by Bozorth3 with another impression of its own finger; the baseline, in
the same run, is the uncut print, tilted as it lies on the glass, against that same impression, so the ratio is what
cutting it out of the slap costs the matcher.

Figures: slaps split into four (a count that does not add up is refused, never named by chance); crops named
right (each crop's best Bozorth3 match among the four sources is its own, beside the same for the uncut prints); the crops' median Bozorth3 against the
uncut prints'; the share at or above the match threshold (40) for both; milliseconds a split.

Run:  .venv/bin/python bench/slap_segmentation.py [--slaps 100]
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from travesia.biometrics import finger
from travesia.enrolment import slaps
from travesia.synth.slaps import compose, fingertip

FVC = Path(__file__).resolve().parents[2] / "shared" / "data" / "biometrics" / "fvc2002"
THRESHOLD = 40  # TRAVESIA_FINGER_THRESHOLD's default


def on_white(path: Path) -> bytes:
    """A print as dark ridges on white glass, trimmed to its ridges (DB2_B and DB3_B have grey backgrounds, stretched
    to white; the sensors' frames are wider than some fingertips), so that the gap between prints is between skin."""
    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    white = np.clip(grey * 255.0 / max(np.percentile(grey, 99), 1.0), 0, 255).astype(np.uint8)
    dark = white < 128
    rows = np.flatnonzero(dark.mean(axis=1) > 0.05)
    cols = np.flatnonzero(dark.mean(axis=0) > 0.05)
    trimmed = white[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] if len(rows) and len(cols) else white
    tip = Image.fromarray(trimmed)
    dome = Image.new("L", tip.size, 0)  # DB2_B's and DB3_B's sensors are smaller than a finger: give it its dome
    ImageDraw.Draw(dome).ellipse((0, 0, tip.width, 1.4 * tip.height), fill=255)
    out = io.BytesIO()
    Image.composite(tip, Image.new("L", tip.size, 255), dome).save(out, format="PNG")
    return out.getvalue()


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def template(raw: bytes) -> bytes | None:
    try:
        return finger.analyse(raw, with_quality=False).template
    except finger.FingerProblem:
        return None


def score(a: bytes | None, b: bytes | None) -> int:
    return finger.compare(a, b) if a is not None and b is not None else 0


def run_db(db: str, count: int, rng: random.Random) -> dict[str, float]:
    folder = FVC / db
    ids = sorted({p.name.split("_")[0] for p in folder.glob("*_1.tif")})
    split_ok = named_ok = named_uncut = 0
    crop_scores: list[int] = []
    whole_scores: list[int] = []
    times: list[float] = []
    refused: list[int] = []  # fingers found on the slaps refused
    for _ in range(count):
        chosen = rng.sample(ids, 4)
        shown, other = rng.sample(range(1, 9), 2)
        prints = [on_white(folder / f"{i}_{shown}.tif") for i in chosen]
        references = [template(on_white(folder / f"{i}_{other}.tif")) for i in chosen]
        width = min(Image.open(io.BytesIO(p)).width for p in prints)
        gap = rng.randint(-width // 10, width // 5)  # from pressed together (skin overlapping a tenth) to apart
        lift = tuple(rng.randint(0, 90) for _ in chosen)
        tilt = tuple(rng.uniform(-10, 10) for _ in chosen)
        raw = compose(prints, gap=gap, lift=lift, tilt=tilt)
        started = time.perf_counter()
        try:
            found = slaps.split(raw, 13)
        except slaps.SlapProblem as problem:
            refused.append(int(problem.params.get("found", -1)))
            continue
        finally:
            times.append(time.perf_counter() - started)
        split_ok += 1
        matrix = [[score(template(f.data), ref) for ref in references] for f in found.values()]
        alone = [png(fingertip(p, angle, oval=False)) for p, angle in zip(prints, tilt, strict=True)]
        uncut = [[score(template(p), ref) for ref in references] for p in alone]
        named_ok += sum(int(np.argmax(row)) == k for k, row in enumerate(matrix))
        named_uncut += sum(int(np.argmax(row)) == k for k, row in enumerate(uncut))
        crop_scores += [matrix[k][k] for k in range(4)]
        whole_scores += [uncut[k][k] for k in range(4)]
    crops = 4 * split_ok
    return {
        "split": split_ok / count,
        "named": named_ok / crops if crops else 0.0,
        "named_uncut": named_uncut / crops if crops else 0.0,
        "crop_median": float(np.median(crop_scores)) if crop_scores else 0.0,
        "whole_median": float(np.median(whole_scores)) if whole_scores else 0.0,
        "crop_match": sum(s >= THRESHOLD for s in crop_scores) / crops if crops else 0.0,
        "whole_match": sum(s >= THRESHOLD for s in whole_scores) / crops if crops else 0.0,
        "ms": 1000 * float(np.median(times)),
        "refused": " ".join(f"{n}:{refused.count(n)}" for n in sorted(set(refused))) or "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slaps", type=int, default=100, help="composed slaps a database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not FVC.exists():
        sys.exit(f"FVC2002 is read in place from {FVC} (never copied into the repository)")
    print(f"# {platform.node()} {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"# python bench/slap_segmentation.py --slaps {args.slaps} --seed {args.seed}")
    print("| database | slaps split into 4 | best match its own: crop / uncut | Bozorth3 median: crop / uncut print "
          "| ≥ 40: crop / uncut | ms a split | refused (fingers found: slaps) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    rng = random.Random(args.seed)
    for db in ("DB1_B", "DB2_B", "DB3_B"):
        r = run_db(db, args.slaps, rng)
        print(
            f"| {db} | {r['split']:.1%} | {r['named']:.1%} / {r['named_uncut']:.1%} | {r['crop_median']:.0f} / {r['whole_median']:.0f} "
            f"| {r['crop_match']:.1%} / {r['whole_match']:.1%} | {r['ms']:.0f} | {r['refused']} |"
        )


if __name__ == "__main__":
    main()
