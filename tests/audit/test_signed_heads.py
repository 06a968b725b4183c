"""Signed tree heads: a database administrator who rewrites the trail is caught without anyone keeping an anchor.

The three rewrites of issue 22 (one event edited and every later hash recomputed; the tail removed and the head
moved back; the whole trail recomputed from genesis) pass the hash chain alone, and fail against a head signed
before them. Proofs built from the stored tree verify against the signed roots."""

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from tests.audit.test_trail import ACTOR, disable_append_only, record_events
from tests.conftest import token_for
from tests.live import cli_env, run_cli
from travesia.audit import heads, merkle, tree
from travesia.audit import service as audit
from travesia.audit.chain import GENESIS, event_hash, hashed_fields
from travesia.audit.service import TrustedHeads
from travesia.core.db import utcnow
from travesia.core.principal import Role
from travesia.models import AuditChainHead, AuditEvent


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def heads_path(tmp_path):
    return tmp_path / "heads.jsonl"


@pytest.fixture
def trusted(key, heads_path) -> TrustedHeads:
    return TrustedHeads(heads_path, key.public_key())


def rewrite_from(session, backend: str, seq: int, *, drop_tail: int = 0, **changes: object) -> None:
    """Change event ``seq`` (if ``changes``), recompute every later hash with the project's own function, drop the
    last ``drop_tail`` events and move the head row: what the chain alone cannot tell from honest history."""
    disable_append_only(session, backend)
    if drop_tail:
        last = session.execute(select(AuditChainHead.seq)).scalar_one()
        session.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": last - drop_tail})
    previous = session.get(AuditEvent, seq - 1)
    prev = previous.hash if previous else GENESIS
    rows = session.execute(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)).scalars().all()
    for row in rows:
        if row.seq == seq:
            for name, value in changes.items():
                setattr(row, name, value)
        row.prev_hash, row.hash = prev, event_hash(hashed_fields(row), prev)
        prev = row.hash
    session.flush()
    last_seq = rows[-1].seq if rows else seq - 1
    session.execute(text("UPDATE audit_chain_head SET seq = :s, hash = :h"), {"s": last_seq, "h": prev})
    session.expire_all()


def signed_trail(session, key, heads_path, events: int = 12) -> heads.SignedHead:
    record_events(session, events)
    head = audit.sign_head(session, key, heads_path)
    assert head is not None
    record_events(session, 3)  # the trail goes on after the head
    return head


def test_an_untouched_trail_is_consistent_with_its_signed_heads(session, key, heads_path, trusted):
    first = signed_trail(session, key, heads_path)
    second = audit.sign_head(session, key, heads_path)
    verdict = audit.verify(session, trusted=trusted)
    assert verdict.ok, verdict.problem
    assert verdict.heads_checked == 2 and verdict.signed_size == second.size == first.size + 3


def test_edit_and_recompute_every_later_hash_is_caught(session, backend, key, heads_path, trusted):
    head = signed_trail(session, key, heads_path)
    rewrite_from(session, backend, head.size - 5, purpose="covered up")
    assert audit.verify(session).ok  # the chain alone is fooled
    verdict = audit.verify(session, trusted=trusted)
    assert not verdict.ok and verdict.problem_code == "signed_root_mismatch" and verdict.bad_seq == head.size


def test_tail_removed_and_head_moved_back_is_caught(session, backend, key, heads_path, trusted):
    record_events(session, 10)
    head = audit.sign_head(session, key, heads_path)
    rewrite_from(session, backend, head.size - 1, drop_tail=2)  # the last two signed events gone, hashes redone
    assert audit.verify(session).ok
    verdict = audit.verify(session, trusted=trusted)
    assert not verdict.ok and verdict.problem_code == "signed_events_missing"


def test_full_recomputation_from_genesis_is_caught(session, backend, key, heads_path, trusted):
    signed_trail(session, key, heads_path)
    rewrite_from(session, backend, 1, actor="someone else")
    assert audit.verify(session).ok
    verdict = audit.verify(session, trusted=trusted)
    assert not verdict.ok and verdict.problem_code == "signed_root_mismatch"


def test_an_edited_head_file_is_caught(session, key, heads_path, trusted):
    signed_trail(session, key, heads_path)
    line = json.loads(heads_path.read_text())
    forged = Ed25519PrivateKey.generate()  # the administrator's own key: not the one the auditor trusts
    fake = heads.sign_head(forged, line["size"] + 1, bytes(32), utcnow())
    heads.append_head(heads_path, fake)
    verdict = audit.verify(session, trusted=trusted)
    assert not verdict.ok and verdict.problem_code == "signature_invalid"
    heads_path.write_text("not json\n")
    assert audit.verify(session, trusted=trusted).problem_code == "heads_unreadable"


def test_events_and_head_row_both_deleted_is_reported_not_a_crash(session, backend):
    record_events(session, 3)
    disable_append_only(session, backend)
    session.execute(text("DELETE FROM audit_events"))
    session.execute(text("DELETE FROM audit_chain_head"))
    verdict = audit.verify(session)
    assert not verdict.ok and verdict.problem_code == "head_missing"


def test_signing_refuses_a_trail_that_does_not_extend_the_last_head(session, backend, key, heads_path):
    head = signed_trail(session, key, heads_path, events=4)
    rewrite_from(session, backend, head.size, drop_tail=4)  # the three later events and the last signed one
    with pytest.raises(audit.HistoryRewritten):
        audit.sign_head(session, key, heads_path)


def test_proofs_from_the_stored_tree_verify_against_signed_roots(session, key, heads_path):
    record_events(session, 300)
    early = audit.sign_head(session, key, heads_path)
    record_events(session, 330)  # past two stored subtrees of 256
    late = audit.sign_head(session, key, heads_path)
    assert session.execute(text("SELECT count(*) FROM audit_tree_nodes")).scalar_one() >= 2
    late_root = bytes.fromhex(late.root)
    for seq in (1, 255, 256, 257, early.size, late.size):
        proof = audit.inclusion_proof(session, seq, late.size)
        assert len(proof.proof) <= late.size.bit_length()
        assert proof.root == late.root
        path = [bytes.fromhex(p) for p in proof.proof]
        assert merkle.verify_inclusion(seq - 1, late.size, bytes.fromhex(proof.leaf), path, late_root)
    consistency = audit.consistency_proof(session, early.size, late.size)
    assert (consistency.first_root, consistency.second_root) == (early.root, late.root)
    path = [bytes.fromhex(p) for p in consistency.proof]
    assert merkle.verify_consistency(early.size, late.size, bytes.fromhex(early.root), late_root, path)
    # the stored nodes give the same root as the events themselves
    hashes = session.execute(select(AuditEvent.hash).order_by(AuditEvent.seq).limit(late.size)).scalars()
    assert merkle.root_of([tree.leaf_of(h) for h in hashes]).hex() == late.root


def test_workers_sign_on_schedule_only_when_the_trail_grew(app, db, settings):
    pipeline = app.state.pipeline
    signing = pipeline.audit_signing
    assert signing.every == timedelta(minutes=settings.audit_sign_minutes)
    with db.transaction() as session:
        record_events(session, 2)
    first = pipeline.sign_audit_head(signing)
    assert first is not None and len(heads.read_heads(signing.heads_path)) == 1
    assert pipeline.sign_audit_head(signing) is None  # too soon
    later = utcnow() + timedelta(minutes=6)
    assert pipeline.sign_audit_head(signing, now=later) is None  # nothing new to sign
    with db.transaction() as session:
        audit.record(session, ACTOR, "test.event")
    assert pipeline.sign_audit_head(signing, now=later).size == first.size + 1


def test_cli_signs_verifies_with_an_auditors_copies_and_proves(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "HQ", "--name", "Sede", "--kind", "headquarters").returncode == 0
    unsigned = run_cli(env, "audit", "verify")
    assert unsigned.returncode == 0 and "no signed tree head yet" in unsigned.stdout
    signed = run_cli(env, "audit", "sign")
    assert signed.returncode == 0 and "signed tree head" in signed.stdout
    pem = run_cli(env, "audit", "public-key")
    (tmp_path / "auditor.pem").write_text(pem.stdout)
    copy = tmp_path / "auditor-heads.jsonl"
    copy.write_text((tmp_path / "audit-heads.jsonl").read_text())
    ok = run_cli(env, "audit", "verify", "--heads", str(copy), "--public-key", str(tmp_path / "auditor.pem"))
    assert ok.returncode == 0 and "consistent with 1 signed heads" in ok.stdout, ok.stderr
    proof = run_cli(env, "audit", "prove-inclusion", "1")
    assert proof.returncode == 0 and json.loads(proof.stdout)["seq"] == 1
    assert run_cli(env, "audit", "prove-consistency", "1").returncode == 0
    assert run_cli(env, "audit", "sign").returncode == 0
    two = json.loads((tmp_path / "audit-heads.jsonl").read_text().splitlines()[-1])["size"]
    assert run_cli(env, "audit", "prove-consistency", "1", str(two)).returncode == 0


def test_api_publishes_heads_and_proves_against_them(client, make_user, session, auth_ctx):
    auditor = token_for(make_user, session, auth_ctx, "auditor.heads", Role.AUDITOR)
    assert client.get("/api/v1/audit/heads/latest").status_code == 404  # nothing signed yet, and no login needed
    record_events(session, 5)
    session.commit()
    signed = client.post("/api/v1/audit/heads", headers=auditor)
    assert signed.status_code == 201, signed.text
    head = signed.json()
    published = client.get("/api/v1/audit/heads").json()
    assert published["heads"] == [head] and "BEGIN PUBLIC KEY" in published["public_key"]
    public = serialization.load_pem_public_key(published["public_key"].encode())
    assert heads.signature_valid(heads.SignedHead(**head), public)
    proof = client.get("/api/v1/audit/proofs/consistency", params={"first": 2, "second": head["size"]}).json()
    path = [bytes.fromhex(p) for p in proof["proof"]]
    first_root, second_root = bytes.fromhex(proof["first_root"]), bytes.fromhex(head["root"])
    assert merkle.verify_consistency(2, head["size"], first_root, second_root, path)
    too_far = client.get("/api/v1/audit/proofs/consistency", params={"first": 2, "second": head["size"] + 1})
    assert too_far.status_code == 422 and too_far.json()["detail"][0]["loc"] == ["body", "second"]
    inclusion = client.get("/api/v1/audit/proofs/inclusion", params={"seq": 1, "size": head["size"]}, headers=auditor)
    assert inclusion.status_code == 200 and inclusion.json()["root"] == head["root"]
    assert client.get("/api/v1/audit/proofs/inclusion", params={"seq": 1, "size": 1}).status_code == 401
    verdict = client.post("/api/v1/audit/verify", headers=auditor).json()
    assert verdict["ok"] and verdict["signed_size"] == head["size"]
