"""A scanner's drop folder: images attached to their registration and processed, the files deleted once stored;
bad names, unreadable images, exempt fingers and duplicates refused with a reason file, nothing stored for them."""

import json
import os
import time

from sqlalchemy import select

from tests.biometrics.test_pipeline import enrol
from travesia.biometrics import dropfolder, jobs
from travesia.core.principal import cli_principal
from travesia.models import AuditEvent, BiometricSample

SCANNER = cli_principal("scanner-desk")


def _drop(folder, name, data, age=10):
    path = folder / name
    path.write_bytes(data)
    old = time.time() - age
    os.utime(path, (old, old))  # older than the settle time: the scanner has finished writing it
    return path


def _samples(session, encounter_id):
    session.expire_all()
    rows = session.execute(select(BiometricSample).where(BiometricSample.encounter_id == encounter_id)).scalars()
    return {(s.modality, s.finger_position): s for s in rows}


def test_dropped_prints_are_attached_processed_and_deleted(client, officer, session, db, bio, tmp_path, finger_of):
    tmp_path = tmp_path / "scanner"  # the scanner's folder, not the data folder the app writes to
    tmp_path.mkdir()
    encounter = enrol(client, officer, biometrics={"consent": "given"})
    _drop(tmp_path, f"{encounter}_2.png", finger_of(21, 0))
    _drop(tmp_path, f"{encounter}_7.png", finger_of(22, 0))
    fresh = _drop(tmp_path, f"{encounter}_8.png", finger_of(23, 0), age=0)  # still being written: left for later
    result = dropfolder.sweep(db, SCANNER, tmp_path)
    assert sorted(result.stored) == [f"{encounter}_2.png", f"{encounter}_7.png"] and not result.rejected
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]
    assert set(_samples(session, encounter)) == {("finger", 2), ("finger", 7)}
    assert jobs.run_pending(db, bio)["processed"] == 1
    assert {s.status for s in _samples(session, encounter).values()} == {"done"}
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "encounter.samples_add")).scalar_one()
    assert json.loads(event.details) == {"source": "scanner", "face": False, "fingers": [2, 7]}


def test_refused_files_get_a_reason_and_store_nothing(client, officer, session, db, tmp_path, finger_of):
    tmp_path = tmp_path / "scanner"
    tmp_path.mkdir()
    exempt = {"consent": "given", "exemptions": [{"modality": "finger", "finger_position": 3, "reason": "injured"}]}
    encounter = enrol(client, officer, fingers={1: finger_of(31, 0)}, biometrics=exempt)
    child = enrol(client, officer, birth_date="2024-03-01", given_names="Niña")
    _drop(tmp_path, "holiday.jpg", b"not ours")
    _drop(tmp_path, f"{encounter}_3.png", finger_of(32, 0))  # exempt finger
    _drop(tmp_path, f"{child}_1.png", finger_of(33, 0))  # under the capture age
    _drop(tmp_path, f"{encounter}_11.png", finger_of(34, 0))  # no such finger
    _drop(tmp_path, f"{encounter}_5.wsq", b"garbage that is not WSQ")
    result = dropfolder.sweep(db, SCANNER, tmp_path)
    assert result.stored == []
    assert set(result.rejected) == {
        "holiday.jpg",
        f"{encounter}_3.png",
        f"{child}_1.png",
        f"{encounter}_11.png",
        f"{encounter}_5.wsq",
    }
    assert "exempt" in result.rejected[f"{encounter}_3.png"]
    assert "age" in result.rejected[f"{child}_1.png"]
    assert "readable image" in result.rejected[f"{encounter}_5.wsq"]
    rejected = tmp_path / dropfolder.REJECTED
    assert (rejected / f"{encounter}_3.png.reason.txt").read_text().strip() == result.rejected[f"{encounter}_3.png"]
    assert set(_samples(session, encounter)) == {("finger", 1)} and _samples(session, child) == {}
    _drop(tmp_path, f"{encounter}_4.png", finger_of(35, 0))
    twice = _drop(tmp_path, f"{encounter}_4.wsq", b"second file for finger 4")
    result = dropfolder.sweep(db, SCANNER, tmp_path)
    assert result.stored == [f"{encounter}_4.png"] and "same finger" in result.rejected[twice.name]
    again = _drop(tmp_path, f"{encounter}_1.png", finger_of(31, 1))  # finger 1 is already captured
    assert "already captured" in dropfolder.sweep(db, SCANNER, tmp_path).rejected[again.name]
    assert set(_samples(session, encounter)) == {("finger", 1), ("finger", 4)}
