"""Regenerate the user guide's screenshots: run the browser journeys (tests/web/test_browser.py, against
`travesia serve` on the demo data) and copy the figures the guide shows into docs/screenshots/, cropped and reduced
to a palette so that the repository stays small. `make screenshots`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "screenshots"
GUIDE = ROOT / "docs" / "screenshots"
MAX_HEIGHT = 1500  # a full page longer than this is cut: the guide shows the top of it
FIGURES = [
    "login-es", "login-en", "home-registration-officer", "enrol-camera-live", "enrol-family-form",
    "enrol-family-receipt", "alerts-queue", "alert-open", "alert-confirmed", "protection-person", "pass-verified",
    "protection-queue", "flight-planned", "flight-gate-refuses", "flight-manifest", "exchange-agreements",
    "exchange-export", "statistics-dashboard", "statistics-forecast", "audit-verified", "audit-who-looked",
    "person-page", "admin-users",
]  # fmt: skip


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/web/test_browser.py"],
                         cwd=ROOT, check=False)  # fmt: skip
    if run.returncode != 0:
        print("the journeys failed: screenshots not updated", file=sys.stderr)
        return run.returncode
    GUIDE.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in FIGURES:
        image = Image.open(SHOTS / f"{name}.png").convert("RGB")
        image = image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
        out = GUIDE / f"{name}.png"
        image.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
        total += out.stat().st_size
    print(f"{len(FIGURES)} screenshots in {GUIDE.relative_to(ROOT)} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
