"""Safe-conduct passes: signed, printed as a PDF whose QR decodes back to a token that verifies offline with the
public key alone; one changed byte, an expired pass and a revoked pass are refused. The manifest prints too."""

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from travesia.cli import build
from travesia.protection import passes

TODAY = date.today()


def issue(client, headers, person, days=30, **extra):
    body = {"valid_from": TODAY.isoformat(), "valid_until": (TODAY + timedelta(days=days)).isoformat(),
            "route": ["PAN", "CRI"], "destination": "Paso Canoas (CRI)", **extra}  # fmt: skip
    return client.post(f"/api/v1/persons/{person}/passes", json=body, headers=headers)


def render_png(pdf_bytes: bytes, folder: Path) -> Path:
    source = folder / "doc.pdf"
    source.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(source), str(folder / "page")], check=True)
    return folder / "page.png"


@pytest.fixture
def public(client):
    return passes.load_public_keys(client.get("/passes/public-key").text)


def test_a_printed_pass_verifies_offline(client, people, protection_officer, public, tmp_path, face_png, officer):
    person = people["single"]
    made = issue(client, protection_officer, person)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert "Pedro" not in token and "Rojas" not in passes._unb64(token.split(".")[1]).decode()  # minimal data
    document = client.get(f"/api/v1/protection/passes/{made.json()['id']}.pdf", headers=protection_officer)
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    page = render_png(document.content, tmp_path)
    [code] = zxingcpp.read_barcodes(Image.open(page))
    assert code.text == token
    verdict = passes.verify(code.text, public, set(), TODAY)
    assert verdict.valid and verdict.payload["i"] == "PR 1985"

    # offline, from the picture, with the CLI and nothing but the public key
    (tmp_path / "key.pem").write_text(client.get("/passes/public-key").text)
    args = ["verify-pass", "--qr", str(page), "--public-key", str(tmp_path / "key.pem")]
    run = CliRunner().invoke(build("verify-pass"), args)
    assert run.exit_code == 0 and "VALID pass" in run.output

    # exit codes a script can act on: 0 valid, 1 not valid, 2 cannot check
    cli = build("verify-pass")
    key = ["--public-key", str(tmp_path / "key.pem")]
    head, body, signature = token.split(".")
    forged = ".".join([head, body, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")])
    not_valid = CliRunner().invoke(cli, ["verify-pass", forged, *key])
    assert not_valid.exit_code == 1 and "NOT VALID" in not_valid.output and "bad_signature" in not_valid.output
    no_key = CliRunner().invoke(cli, ["verify-pass", token, "--public-key", str(tmp_path / "missing.pem")])
    assert no_key.exit_code == 2 and "CANNOT CHECK" in no_key.output
    (tmp_path / "blank.png").write_bytes(face_png)  # a picture without a QR code
    no_code = CliRunner().invoke(cli, ["verify-pass", "--qr", str(tmp_path / "blank.png"), *key])
    assert no_code.exit_code == 2 and "no QR code" in no_code.output
    (tmp_path / "bad.pem").write_text("not a key")
    bad_key = CliRunner().invoke(cli, ["verify-pass", token, "--public-key", str(tmp_path / "bad.pem")])
    assert bad_key.exit_code == 2 and "CANNOT CHECK" in bad_key.output


def test_tampered_expired_and_revoked_passes_are_refused(client, people, protection_officer, public, tmp_path):
    token = issue(client, protection_officer, people["single"], days=10).json()["token"]
    head, body, signature = token.split(".")
    raw = bytearray(passes._unb64(body))
    raw[raw.index(b'"u":"') + 5 + 3] ^= 0x01  # one byte of the end date
    tampered = ".".join([head, passes._b64(bytes(raw)), signature])
    assert passes.verify(tampered, public, set(), TODAY).reason == "bad_signature"
    assert passes.verify(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], public, set(), TODAY).reason in (
        "bad_signature", "malformed",
    )  # fmt: skip
    assert passes.verify(token, public, set(), TODAY + timedelta(days=11)).reason == "expired"
    assert passes.verify(token, public, set(), TODAY - timedelta(days=1)).reason == "not_yet_valid"
    assert passes.verify("TRV1.garbage", public, set(), TODAY).reason == "malformed"
    assert passes.verify(token, {"other": next(iter(public.values()))}, set(), TODAY).reason == "unknown_key"

    pass_id = passes.verify(token, public, set(), TODAY).payload["n"]
    revoked = client.post(
        f"/api/v1/protection/passes/{pass_id}/revoke", json={"reason": "lost"}, headers=protection_officer
    )
    assert revoked.status_code == 200
    document = client.get("/passes/revoked").text  # published for verifiers, signed
    assert passes.verify(token, public, passes.read_revocations(document, public), TODAY).reason == "revoked"
    forged = document.replace(document.split(".")[1], passes._b64(b'{"revoked":[]}'))
    with pytest.raises(ValueError, match="does not verify"):
        passes.read_revocations(forged, public)
    page = client.get("/verify-pass", params={"token": token})  # the public page: no account, no database
    [verdict] = re.findall(r'<div class="alert" role="alert" id="verdict">(.*?)</div>', page.text, re.S)
    assert page.status_code == 200 and "No válido: revocado" in verdict  # in words, in the reader's language


def test_pass_validity_is_checked_when_issued(client, people, protection_officer):
    too_long = issue(client, protection_officer, people["single"], days=200)
    assert too_long.status_code == 422 and "valid_until" in too_long.text
    backwards = issue(client, protection_officer, people["single"], days=-1)
    assert backwards.status_code == 422
    bad_route = issue(client, protection_officer, people["single"], route=["Panama"])
    assert bad_route.status_code == 422 and "route" in bad_route.text


def test_the_manifest_prints_as_csv_and_pdf(client, people, flight, programme_officer, tmp_path):
    placed = client.post(
        f"/api/v1/flights/{flight}/manifest", json={"person_id": str(people["son"])}, headers=programme_officer
    )
    assert placed.status_code == 201
    csv_text = client.get(f"/api/v1/flights/{flight}/manifest.csv", headers=programme_officer).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("family,person_id,name") and len(lines) == 4
    assert len({line.split(",")[0] for line in lines[1:]}) == 1  # one family
    document = client.get(f"/api/v1/flights/{flight}/manifest.pdf", headers=programme_officer).content
    page = render_png(document, tmp_path)
    with Image.open(page) as image:
        assert image.width > 1000 and image.convert("L").getextrema()[0] < 50  # a real page with ink on it
