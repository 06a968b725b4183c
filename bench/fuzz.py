"""Fuzzing every parser of outside input: each target feeds bytes through the same code the API, the pages and the
CLI use, and may end only in that parser's own refusal (a clear error naming the field), never another exception.

Targets: ``mrz`` (machine-readable zones), ``nist`` (ANSI/NIST-ITL partner files), ``ftm`` (FollowTheMoney
watchlists), ``csvlist`` (CSV watchlists with a mapping), ``bulk`` (bulk registration files, CSV and JSON lines,
through the schema and document rules), ``sync`` (a field station's signed batch: the envelope, then, signed
with a station key, the payload through the items' schema and images, as central reads them).

Long runs (coverage-guided with atheris, libFuzzer's engine)::

    .venv/bin/python bench/fuzz.py --target nist --runs 1000000

The suite's bounded run (hypothesis, a few hundred mutated seeds per target) is tests/test_fuzz.py; every crash
found here becomes a regression test there. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import hashlib
import io
import json
import random
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _load() -> dict[str, object]:
    """Imported inside a function so that atheris can instrument them (coverage guidance)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from travesia.core.errors import InvalidInput
    from travesia.core.principal import cli_principal
    from travesia.enrolment import bulk_checks, bulk_files, mrz, service
    from travesia.enrolment.schemas import EncounterIn
    from travesia.exchange import nist
    from travesia.screening import formats, listformats
    from travesia.sync import central, envelope
    from travesia.sync.schemas import BatchItem

    return {
        "Ed25519PrivateKey": Ed25519PrivateKey,
        "bulk_checks": bulk_checks,
        "bulk_files": bulk_files,
        "import_context": bulk_checks.ImportContext(
            cli_principal("fuzz"),
            {"ERM-FUZZ": service.StationRef(uuid.UUID(int=1), "ERM-FUZZ", True)},
            None,
            "sqlite",
        ),
        "mrz": mrz,
        "service": service,
        "InvalidInput": InvalidInput,
        "EncounterIn": EncounterIn,
        "nist": nist,
        "formats": formats,
        "listformats": listformats,
        "central": central,
        "envelope": envelope,
        "BatchItem": BatchItem,
    }


M: dict[str, object] = {}
KEY_SEED = bytes(range(32))


# -- the targets: bytes in; only the listed refusals may come out ------------------------------------------------
def target_mrz(data: bytes) -> None:
    try:
        M["mrz"].parse(data.decode("utf-8", errors="replace"), today=date(2026, 12, 7))  # type: ignore[attr-defined]
    except M["mrz"].MrzFormatError:  # type: ignore[attr-defined]
        pass


def target_nist(data: bytes) -> None:
    try:
        M["nist"].decode(data)  # type: ignore[attr-defined]
    except M["nist"].NistProblem:  # type: ignore[attr-defined]
        pass


def _list_file(data: bytes, name: str | None, mapping: dict[str, str] | None) -> None:
    try:
        text = data.decode("utf-8")  # the API and CLI refuse other bytes before the parser
    except UnicodeDecodeError:
        return
    try:
        M["listformats"].read_file(io.StringIO(text, newline=""), "persons", mapping, name)  # type: ignore[attr-defined]
    except M["formats"].ListFileError:  # type: ignore[attr-defined]
        pass


def target_ftm(data: bytes) -> None:
    _list_file(data, None, None)  # recognised by content, as an upload is


CSV_MAPPING = {"id": "Id", "name": "Name", "birthDate": "Born", "nationality": "Country", "passportNumber": "Passport"}


def target_csvlist(data: bytes) -> None:
    _list_file(data, None, CSV_MAPPING)


def target_bulk(data: bytes) -> None:
    """A bulk registration file (the first byte picks CSV or JSON lines) through every check `travesia import` runs
    before it touches the database (``bulk_checks.check_chunk``: the schema, the station, the documents, the body
    hash, the rows in storage form): a bad row is a reject, never an exception."""
    if not data:
        return
    files = M["bulk_files"]
    try:
        text = data[1:].decode("utf-8")
    except UnicodeDecodeError:
        return
    lines = io.StringIO(text, newline="")
    reader = files._csv_rows if data[0] % 2 else files._jsonl_rows  # type: ignore[attr-defined]
    try:
        rows = list(reader(lines))
    except files.FileProblem:  # type: ignore[attr-defined]
        return
    M["bulk_checks"].check_chunk(M["import_context"], rows)  # type: ignore[attr-defined]


def target_sync(data: bytes) -> None:
    """The first byte picks: the bytes as an envelope (unsigned, as anyone may send), or as the payload of an
    envelope signed with a station key (what a station, or a stolen key, may send), read to the last image."""
    if not data:
        return
    envelope = M["envelope"]
    if data[0] % 2:
        with contextlib.suppress(envelope.EnvelopeProblem):  # type: ignore[attr-defined]
            envelope.parse(data[1:])  # type: ignore[attr-defined]
        return
    blob = signed_envelope(data[1:])
    key = M["Ed25519PrivateKey"].from_private_bytes(KEY_SEED)  # type: ignore[attr-defined]
    try:
        env = envelope.parse(blob)  # type: ignore[attr-defined]
        envelope.verify(env, key.public_key())  # type: ignore[attr-defined]
        envelope.station_time(env)  # type: ignore[attr-defined]
        for raw in envelope.items(env):  # type: ignore[attr-defined]
            try:
                item = M["BatchItem"].model_validate(M["central"]._shifted(raw, 0))  # type: ignore[attr-defined]
            except ValidationError:
                continue
            try:
                M["central"]._captured(item, 0, M["principal"])  # type: ignore[attr-defined]
            except M["central"].SyncRefused:  # type: ignore[attr-defined]
                pass
    except envelope.EnvelopeProblem:  # type: ignore[attr-defined]
        pass


def signed_envelope(payload_lines: bytes) -> bytes:
    """An envelope whose payload is these bytes (gzipped), signed with the fuzz station's key."""
    envelope = M["envelope"]
    key = M["Ed25519PrivateKey"].from_private_bytes(KEY_SEED)  # type: ignore[attr-defined]
    now = datetime(2026, 12, 7, tzinfo=UTC)
    empty = envelope.seal(key, kind="encounters", station="ERM-FUZZ", first_seq=1, last_seq=1, now=now)  # type: ignore[attr-defined]
    header = dict(envelope.parse(empty).header)  # type: ignore[attr-defined]
    payload = gzip.compress(payload_lines, mtime=0)
    count = len(payload_lines.split(b"\n")) if payload_lines else 0
    header.update(payload_sha256=hashlib.sha256(payload).hexdigest(), payload_size=len(payload), count=count)
    head = envelope.canonical(header)  # type: ignore[attr-defined]
    signed = envelope.MAGIC + struct.pack(">I", len(head)) + head  # type: ignore[attr-defined]
    return signed + key.sign(signed) + payload


TARGETS: dict[str, Callable[[bytes], None]] = {
    "mrz": target_mrz,
    "nist": target_nist,
    "ftm": target_ftm,
    "csvlist": target_csvlist,
    "bulk": target_bulk,
    "sync": target_sync,
}


# -- seeds: valid inputs of each kind, made here (no real person's data) --------------------------------------
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"

PERSON = {
    "id": "0b0b8f0e-9d5c-4a38-9c5f-6c2f8e2a1b01",
    "station": "ERM-FUZZ",
    "given_names": "Ana María",
    "surnames": "Pérez Núñez",
    "sex": "F",
    "birth_date": "1990-05-17",
    "nationality": "VEN",
    "languages": ["es"],
    "route_countries": ["COL"],
    "documents": [{"number": "L898902C3", "issuing_state": "UTO", "mrz": TD3}],
}


def _png(size: tuple[int, int], grey: bool = True) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L" if grey else "RGB", size, 128).save(out, format="PNG")
    return out.getvalue()


def seeds(target: str) -> list[bytes]:
    if target == "mrz":
        return [TD3.encode(), TD1.encode(), TD2.encode(), TD3.replace("\n", "").encode()]
    if target == "nist":
        from travesia.exchange import nist
        from travesia.exchange.records import DocumentRef, Image, PersonRecord

        person = PersonRecord(
            ref="p1",
            given_names="ANA MARIA",
            surnames="PEREZ",
            birth_date="1990-05-17",
            sex="F",
            nationality="VEN",
            documents=(DocumentRef("P", "L898902C3", "UTO", "2030-01-01"),),
            face=Image("png", 64, 64, _png((64, 64), grey=False)),
            fingers={2: Image("png", 160, 160, _png((160, 160)))},
        )
        return [nist.encode([person], agency="PAN0001", control="C1", destination="COL0001", today=date(2026, 12, 7))]
    if target == "ftm":
        entity = {
            "id": "fuzz-1",
            "schema": "Person",
            "properties": {"name": ["Ana María Pérez"], "birthDate": ["1990-05-17"], "nationality": ["ve"]},
        }
        return [(json.dumps(entity) + "\n" + json.dumps({**entity, "id": "fuzz-2"}) + "\n").encode()]
    if target == "csvlist":
        return [
            b"Id,Name,Born,Country,Passport\r\nx1,Ana Maria Perez,1990-05-17,VE,L898902C3\r\nx2,Juan Diaz,1980,CO,\r\n"
        ]
    if target == "bulk":
        header = "id,station,given_names,surnames,sex,birth_date,nationality"
        row = "0b0b8f0e-9d5c-4a38-9c5f-6c2f8e2a1b02,ERM-FUZZ,Juan,Díaz,M,1980-01-02,COL"
        return [b"\x00" + (json.dumps(PERSON) + "\n").encode(), b"\x01" + f"{header}\r\n{row}\r\n".encode()]
    if target == "sync":
        item = {
            "seq": 1,
            "recorded_at": "2026-12-07T10:00:00+00:00",
            "officer": "oficial.fuzz",
            "encounter": {**PERSON, "occurred_at": "2026-12-07T10:00:00+00:00"},
            "photo": base64.b64encode(_png((80, 80), grey=False)).decode(),
            "fingerprints": {"2": base64.b64encode(_png((160, 160))).decode()},
        }
        return [b"\x00" + json.dumps(item).encode(), b"\x01" + b"TRVS" + b"\x00\x00\x00\x02{}" + bytes(64)]
    raise KeyError(target)


# -- a plain mutator (the suite's bounded run and machines without atheris) ------------------------------------
TOKENS = [b"\x00", b"\xff", b"<", b"\n", b"\r\n", b",", b'"', b"{", b"}", b"[", b"]", b"null", b"-1", b"1e999",
          b"9" * 40, b"\x1d", b"\x1e", b"\x1f", b"=", b"0500", b":", b";", b"\\u0000", b"\xc3\xa9"]  # fmt: skip


def mutate(data: bytes, rng: random.Random, steps: int | None = None) -> bytes:
    buffer = bytearray(data)
    for _ in range(steps or rng.randint(1, 8)):
        op = rng.randrange(6)
        at = rng.randrange(len(buffer) + 1)
        if op == 0 and buffer:
            buffer[min(at, len(buffer) - 1)] = rng.randrange(256)
        elif op == 1:
            buffer[at:at] = rng.choice(TOKENS)
        elif op == 2 and buffer:
            del buffer[at : at + rng.randint(1, 16)]
        elif op == 3 and buffer:
            start = rng.randrange(len(buffer))
            buffer[at:at] = buffer[start : start + rng.randint(1, 64)]
        elif op == 4:
            buffer = buffer[:at]
        elif op == 5 and buffer:
            buffer[min(at, len(buffer) - 1)] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def prepare() -> None:
    if M:
        return
    M.update(_load())
    from travesia.core.principal import cli_principal

    M["principal"] = cli_principal("fuzz")


def run_plain(target: str, runs: int, seed: int) -> tuple[int, float]:
    prepare()
    rng, corpus, fn = random.Random(seed), seeds(target), TARGETS[target]
    started = time.perf_counter()
    for _ in range(runs):
        fn(mutate(rng.choice(corpus), rng))
    return runs, time.perf_counter() - started


def run_atheris(target: str, runs: int, seed: int) -> None:
    import atheris

    with atheris.instrument_imports(include=["travesia", "nistitl"]):
        prepare()
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    for number, data in enumerate(seeds(target)):
        (corpus / f"seed{number}").write_bytes(data)
    args = [sys.argv[0], f"-runs={runs}", f"-seed={seed}", "-timeout=10", "-rss_limit_mb=4096", "-print_final_stats=1"]
    atheris.Setup([*args, str(corpus)], TARGETS[target])
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=sorted(TARGETS), required=True)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="the plain mutator instead of atheris")
    options = parser.parse_args()
    print(f"command: .venv/bin/python bench/fuzz.py --target {options.target} --runs {options.runs}", flush=True)
    if options.plain:
        done, seconds = run_plain(options.target, options.runs, options.seed)
        print(f"{options.target}: {done} executions in {seconds:.0f} s, 0 crashes")
        return
    run_atheris(options.target, options.runs, options.seed)


if __name__ == "__main__":
    main()
