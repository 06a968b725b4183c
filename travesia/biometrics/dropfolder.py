"""A fingerprint scanner's drop folder: the scanner's software writes one image per finger (or a photo) named
``<registration id>_<finger position 1-10 | slap 13-15 | face>.<wsq|png|tif|jpg>`` (13 the right four fingers
pressed at once, 14 the left four, 15 both thumbs: split into fingers on arrival); each sweep attaches the images to
their registration (checked like any upload, and against the consent and exemptions recorded with it), deletes what was
stored — the database keeps the image — and moves what was refused to ``rejected/`` with a ``.reason.txt`` beside it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from travesia.core.db import Database
from travesia.core.errors import DomainError
from travesia.core.principal import Principal
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import CleanImage, ImageProblem, clean_fingerprint, clean_image

NAME = re.compile(
    r"^(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(?P<what>face|1[0345]|[1-9])\.(wsq|png|tiff?|jpe?g|bmp)$",
    re.I,
)
WHAT = "finger 1-10, slap 13-15 or face"
SETTLE_SECONDS = 2.0  # a file younger than this may still be being written by the scanner
REJECTED = "rejected"


@dataclass
class Sweep:
    stored: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # file name -> reason


def sweep(db: Database, principal: Principal, folder: Path, settle: float = SETTLE_SECONDS) -> Sweep:
    result = Sweep()
    by_encounter: dict[uuid.UUID, list[tuple[Path, str]]] = defaultdict(list)
    for path in _ready_files(folder, settle):
        match = NAME.match(path.name)
        if match is None:
            _reject(path, f"the name is not <registration id>_<{WHAT}>.<wsq|png|tif|jpg>", result)
            continue
        by_encounter[uuid.UUID(match["id"])].append((path, match["what"].lower()))
    for encounter_id, files in by_encounter.items():
        _attach(db, principal, encounter_id, files, result)
    return result


def _ready_files(folder: Path, settle: float) -> list[Path]:
    now = time.time()
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and now - p.stat().st_mtime >= settle
    )


def _attach(
    db: Database, principal: Principal, encounter_id: uuid.UUID, files: list[tuple[Path, str]], result: Sweep
) -> None:
    photo: CleanImage | None = None
    fingers: dict[int, CleanImage] = {}
    usable: list[Path] = []
    seen: set[str] = set()
    for path, what in files:
        if what in seen:  # two files for one finger: neither may silently win
            _reject(path, "another file for the same finger or face came in the same sweep", result)
            continue
        seen.add(what)
        try:
            image = clean_image(path.read_bytes()) if what == "face" else clean_fingerprint(path.read_bytes())
        except ImageProblem as problem:
            _reject(path, str(problem), result)
            continue
        if what == "face":
            photo = image
        else:
            fingers[int(what)] = image
        usable.append(path)
    if not usable:
        return
    try:
        with db.transaction() as session:
            enrolment.add_samples(session, principal, encounter_id, photo, fingers, source="scanner")
    except DomainError as error:
        for path in usable:
            _reject(path, str(error), result)
        return
    for path in usable:
        path.unlink()  # stored in the database: no copy of a biometric image is left on the station's disk
        result.stored.append(path.name)


def _reject(path: Path, reason: str, result: Sweep) -> None:
    target = path.parent / REJECTED
    target.mkdir(exist_ok=True)
    path.replace(target / path.name)
    (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    result.rejected[path.name] = reason
