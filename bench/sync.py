"""Station → central sync: registrations per second and bytes per registration, biographics only and with images,
beside a baseline measured in the same run — the same registrations sent one by one to central's JSON API
(`POST /api/v1/encounters`, what a station would do with no sync protocol).

A field station's SQLite database is filled with synthetic registrations (the flow's names, documents, groups);
the image run adds a face (scikit-image's public-domain NASA portrait, ten variants) and two synthetic fingerprints
to every registration. Central is a real `travesia serve` process on loopback (SQLite by default, or --postgres URL),
started fresh for each run, with its background steps off so that only transport and storage are timed.

The region run times the other direction: central sending a station the templates of people registered at a
neighbouring station of its region (a face and two fingers each), page by page, and the station sealing and storing
them — in one process, central's feed and the station's apply called directly (no HTTP), with its baseline: the
station making the same templates itself from the images (what it would have to do if central sent images).

Run:  python bench/sync.py [--encounters 2000] [--with-images 400] [--region 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
import numpy as np
from cryptography.hazmat.primitives import serialization
from PIL import Image
from skimage import data as skdata
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.enrolment import free_port, make_token, prepare, synthetic
from travesia.biometrics import service as biometrics
from travesia.biometrics.service import Biometrics
from travesia.core import crypto
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.principal import cli_principal
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import clean_fingerprint, clean_image
from travesia.enrolment.schemas import EncounterIn
from travesia.models import BiometricTemplate, Encounter
from travesia.sync import central, station
from travesia.sync import feed as sync_feed
from travesia.sync.agent import AGENT, Agent
from travesia.sync.schemas import Feed
from travesia.synth import fingerprints

CODE = "ERM-SAN-VICENTE"
NEIGHBOUR = "ERM-LAJAS-BLANCAS"  # same region (Darién) in the demo's stations
OPERATOR = cli_principal("bench")


def faces() -> list[bytes]:
    portrait = Image.fromarray(skdata.astronaut())
    out = []
    for n in range(10):
        buffer = io.BytesIO()
        portrait.rotate(n - 5).resize((480, 480)).save(buffer, format="JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


def fill_station(folder: Path, bodies: list[dict], images: int) -> Database:
    url = f"sqlite:///{folder / 'station.db'}"
    prepare(url)
    db = Database(url)
    with db.transaction() as session:
        station.setup(session, CODE, None)
    photos = [clean_image(f) for f in faces()]
    prints = [clean_fingerprint(fingerprints.impression(seed, 0)) for seed in range(10)]
    with db.transaction() as session:
        for n, body in enumerate(bodies):
            data = EncounterIn.model_validate({**body, "station": CODE, "group": None, "corrects": None})
            adult = date.today().year - int(data.birth_date[:4]) >= 14
            with_images = n < images and adult
            if with_images:
                data = data.model_copy(update={"biometrics": None})
            captured = enrolment.Captured(
                data,
                OPERATOR,
                "api",
                photos[n % 10] if with_images else None,
                {1: prints[n % 10], 6: prints[(n + 3) % 10]} if with_images else {},
            )
            enrolment.enrol(session, captured)
    return db


class Central:
    def __init__(self, folder: Path, url: str | None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.url = url or f"sqlite:///{folder / 'central.db'}"
        if url:  # an empty PostgreSQL database each run
            engine = create_engine(url, poolclass=NullPool)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                conn.execute(text("DROP SCHEMA IF EXISTS jobs CASCADE"))
            engine.dispose()
        prepare(self.url)
        self.folder, self.port = folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ, "TRAVESIA_DATABASE_URL": self.url, "TRAVESIA_DATA_DIR": str(folder),
            "TRAVESIA_WORKER": "false", "TRAVESIA_LOG_LEVEL": "WARNING", "TRAVESIA_PORT": str(self.port),
        }  # fmt: skip
        self.log = (folder / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "travesia.cli", "serve"], env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("central did not start")

    def trust(self, key: crypto.Ed25519PrivateKey) -> None:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        db = Database(self.url)
        with db.transaction() as session:
            central.trust_key(session, OPERATOR, CODE, base64.b64encode(raw).decode())
        db.dispose()

    def count(self) -> int:
        engine = create_engine(self.url, poolclass=NullPool)
        with engine.connect() as conn:
            found = conn.execute(select(func.count()).select_from(Encounter)).scalar_one()
        engine.dispose()
        return int(found)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def reset(db: Database) -> None:
    with db.transaction() as session:
        session.execute(text("UPDATE sync_state SET acked_seq = 0, feed_cursor = NULL"))


def sync_run(
    folder: Path, db: Database, key: crypto.Ed25519PrivateKey, pg: str | None, *, images: bool, count: int
) -> dict:
    reset(db)
    hq = Central(folder, pg)
    try:
        hq.trust(key)
        agent = Agent(db, key, hq.base, images=images, timeout=120)
        started = time.perf_counter()
        result = agent.run_once(max_batches=None)
        elapsed = time.perf_counter() - started
        agent.close()
        assert result.error is None, result.error
        assert hq.count() == count == result.stored, (hq.count(), count, result.stored)
    finally:
        hq.stop()
    return {"per_s": count / elapsed, "bytes_each": result.bytes / count, "seconds": elapsed, "batches": result.batches}


def api_baseline(folder: Path, bodies: list[dict], pg: str | None) -> dict:
    hq = Central(folder, pg)
    try:
        token = make_token(hq.url, folder)
        started = time.perf_counter()
        sent = 0
        with httpx.Client(base_url=hq.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            for body in bodies:
                content = json.dumps({**body, "station": CODE, "group": None, "corrects": None}).encode()
                sent += len(content)
                answer = http.post("/api/v1/encounters", content=content, headers={"Content-Type": "application/json"})
                assert answer.status_code == 201, answer.text
        elapsed = time.perf_counter() - started
    finally:
        hq.stop()
    return {"per_s": len(bodies) / elapsed, "bytes_each": sent / len(bodies), "seconds": elapsed}


def extracted_templates() -> tuple[list[bytes], list[bytes], float]:
    """Real templates of ten faces and forty fingers, and the seconds per person (a face and two fingers) that
    making them from the images took: the baseline. Forty fingers at ~1 KB each repeat less often than gzip's
    32 KB window, so the compressed size is not flattered by the repetition."""
    started = time.perf_counter()
    face_templates = [
        biometrics.extract(biometrics.Capture(uuid.uuid4(), "face", None, raw)).template for raw in faces()
    ]
    face_s = (time.perf_counter() - started) / 10
    started = time.perf_counter()
    finger_templates = [
        biometrics.extract(biometrics.Capture(uuid.uuid4(), "finger", 1, fingerprints.impression(seed, 0))).template
        for seed in range(40)
    ]
    finger_s = (time.perf_counter() - started) / 40
    assert all(face_templates) and all(finger_templates)
    return face_templates, finger_templates, face_s + 2 * finger_s  # type: ignore[return-value]


def region_run(folder: Path, bodies: list[dict], key: crypto.Ed25519PrivateKey) -> dict:
    """Central holds ``bodies`` registered at the neighbouring station with a face and two fingers each; a fresh
    station pulls them all."""
    faces_t, fingers_t, extract_s = extracted_templates()
    url = f"sqlite:///{folder / 'central.db'}"
    prepare(url)
    hq, hq_bio = Database(url), Biometrics(keyring=Keyring({"c1": os.urandom(32)}), folder=folder / "c-index")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    noise = np.random.default_rng(7)  # each person's face a little different, as two people's are
    with hq.transaction() as session:
        central.trust_key(session, OPERATOR, CODE, base64.b64encode(raw).decode())
        for n, body in enumerate(bodies):
            data = EncounterIn.model_validate({**body, "station": NEIGHBOUR, "group": None, "corrects": None})
            encounter_id = enrolment.enrol(session, enrolment.Captured(data, OPERATOR, "api")).encounter.id
            face = (np.frombuffer(faces_t[n % 10], np.float32) + noise.normal(0, 0.01, 128)).astype(np.float32)
            for modality, position, template in (("face", None, face.tobytes()), ("finger", 1, fingers_t[n % 40]),
                                                 ("finger", 6, fingers_t[(n + 7) % 40])):  # fmt: skip
                row = BiometricTemplate(
                    subject_kind="encounter", subject_id=encounter_id, modality=modality, finger_position=position,
                    algorithm=hq_bio.algorithms[modality][0], version=hq_bio.algorithms[modality][1],
                    quality=60, quality_reasons=[],
                )  # fmt: skip
                biometrics.seal(hq_bio, row, template)
                session.add(row)
    at = folder / "station.db"
    prepare(f"sqlite:///{at}")
    here, here_bio = Database(f"sqlite:///{at}"), Biometrics(keyring=Keyring({"s1": os.urandom(32)}), folder=folder)
    with here.transaction() as session:
        station.setup(session, CODE, None)
    pages, wire, packed = 0, 0, 0
    started = time.perf_counter()
    while True:
        with here.transaction(readonly=True) as session:
            blob = station.feed_request(session, key)
        with hq.transaction() as session:
            answer = sync_feed.feed(session, blob, bio=hq_bio, region_days=30).model_dump_json().encode()
        feed = Feed.model_validate_json(answer)
        with here.transaction() as session:
            station.apply_feed(session, AGENT, feed, here_bio)
        pages, wire, packed = pages + 1, wire + len(answer), packed + len(gzip.compress(answer, 6))
        if not (feed.region and feed.region.more):
            break
    elapsed = time.perf_counter() - started
    with here.transaction(readonly=True) as session:
        kept = session.execute(
            select(func.count()).select_from(BiometricTemplate).where(BiometricTemplate.subject_kind == "region")
        ).scalar_one()
        indexed = time.perf_counter()
        biometrics.sync(session, here_bio)
        index_s = time.perf_counter() - indexed
    assert kept == 3 * len(bodies), kept
    hq.dispose()
    here.dispose()
    return {
        "persons": len(bodies), "per_s": len(bodies) / elapsed, "seconds": elapsed, "pages": pages,
        "bytes_each": wire / len(bodies), "gzip_each": packed / len(bodies), "index_s": index_s,
        "extract_per_s": 1 / extract_s,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=2000)
    parser.add_argument("--with-images", type=int, default=400, help="how many registrations carry images")
    parser.add_argument("--region", type=int, default=2000, help="people of the region sent to a station (0: skip)")
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database for central (emptied each run)")
    args = parser.parse_args()
    command = "python bench/sync.py " + " ".join(sys.argv[1:])
    print(f"# bench/sync.py — {date.today()} — {platform.node()} ({platform.machine()}, {os.cpu_count()} cores)")
    print(f"command: {command}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = synthetic(root, args.encounters)
        bodies = [json.loads(line) for line in source.open(encoding="utf-8")]
        key = crypto.load_or_create_key(root / "station-signing.pem")
        started = time.perf_counter()
        for name in ("plain", "images"):
            (root / name).mkdir()
        plain_db = fill_station(root / "plain", bodies, 0)
        images_db = fill_station(root / "images", bodies[: args.with_images], args.with_images)
        print(f"stations filled in {time.perf_counter() - started:.0f} s (not timed below)")
        backend = "PostgreSQL" if args.postgres else "SQLite"
        baseline = api_baseline(root / "c0", bodies, args.postgres)
        plain = sync_run(root / "c1", plain_db, key, args.postgres, images=False, count=len(bodies))
        with_images = sync_run(root / "c2", images_db, key, args.postgres, images=True, count=args.with_images)
        for db in (plain_db, images_db):
            db.dispose()
        if args.region:
            (root / "region").mkdir()
            region = region_run(root / "region", bodies[: args.region], key)
    print(f"central on {backend}; one station; loopback HTTP")
    print(f"{'':34} {'registrations/s':>16} {'bytes each':>11} {'seconds':>8}")
    print(
        f"{'baseline: JSON API, one by one':34} {baseline['per_s']:16.0f} {baseline['bytes_each']:11.0f} {baseline['seconds']:8.1f}"
    )
    print(f"{'sync, biographics':34} {plain['per_s']:16.0f} {plain['bytes_each']:11.0f} {plain['seconds']:8.1f}")
    print(
        f"{'sync, face + 2 fingerprints':34} {with_images['per_s']:16.0f} {with_images['bytes_each']:11.0f} {with_images['seconds']:8.1f}"
    )
    print(f"ratio sync/API (biographics): {plain['per_s'] / baseline['per_s']:.1f}x; "
          f"bytes {plain['bytes_each'] / baseline['bytes_each']:.2f}x of the API's uncompressed JSON")  # fmt: skip
    if args.region:
        print(
            f"\nregion templates, central → station (SQLite both, in one process, no HTTP): {region['persons']} "
            f"people with a face and two fingers, {region['pages']} pages"
        )
        print(f"{'':34} {'people/s':>16} {'bytes each':>11} {'seconds':>8}")
        print(
            f"{'baseline: station extracts them':34} {region['extract_per_s']:16.1f} {'':>11} "
            f"{region['persons'] / region['extract_per_s']:8.1f}"
        )
        print(
            f"{'feed + seal + store':34} {region['per_s']:16.0f} {region['bytes_each']:11.0f} {region['seconds']:8.1f}"
        )
        print(
            f"gzip on the wire: {region['gzip_each']:.0f} bytes a person; the station's indexes take them in "
            f"{region['index_s']:.1f} s; ratio to extracting: {region['per_s'] / region['extract_per_s']:.0f}x"
        )


if __name__ == "__main__":
    main()
