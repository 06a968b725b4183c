"""Nothing captured is lost: when a family's form comes back because one member's photo was refused, the photo and
fingerprints already accepted on the others are staged on the server (sealed, the officer's own), shown again with
their thumbnails, and used by the next submission without a new upload; the refused image is named with its reason."""

import io
import re

from PIL import Image
from sqlalchemy import func, select

from tests.enrolment.test_page import form_of, signed_in
from travesia.auth import service as auth_service
from travesia.core.principal import Role
from travesia.enrolment import staging
from travesia.models import BiometricSample, Encounter, StagedImage


def png(side: int = 160, shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (shade, 120, 160)).save(out, format="PNG")
    return out.getvalue()


def family_form(client) -> dict[str, str]:
    ids, token = form_of(client.get("/enrol").text + client.get("/enrol/member", params={"member_count": 1}).text)
    return {
        "csrf_token": token, "group_id": ids["group_id"], "group_kind": "family",
        "m0_id": ids["m0_id"], "m0_relation": "head", "m0_given_names": "Rosa", "m0_surnames": "Pérez",
        "m0_sex": "F", "m0_birth_date": "1990-05-01", "m0_consent": "given",
        "m1_id": ids["m1_id"], "m1_relation": "spouse", "m1_given_names": "Jean", "m1_surnames": "Pérez",
        "m1_sex": "M", "m1_birth_date": "1988-02-03", "m1_consent": "given",
    }  # fmt: skip


def staged_ids(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(m\d+_\w+)_staged" value="([0-9a-f-]{36})"', page))


def test_a_refused_photo_keeps_the_others_images_across_the_correction(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    form = family_form(client)
    files = [
        ("m0_photo", ("rosa.png", png(), "image/png")),
        ("m0_fingerprint_2", ("index.png", png(200, 30), "image/png")),
        ("m1_photo", ("jean.jpg", b"not an image at all", "image/jpeg")),
    ]
    first = client.post("/enrol", data=form, files=files)
    assert first.status_code == 422
    assert 'id="refused-images"' in first.text
    assert "Persona 2, foto: El archivo no es una imagen legible" in first.text  # which image, and why, in Spanish
    kept = staged_ids(first.text)
    assert set(kept) == {"m0_photo", "m0_fingerprint_2"}  # the refused one is not kept
    thumb = client.get(f"/enrol/staged/{kept['m0_photo']}")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).size == (160, 160)
    sealed = session.execute(select(StagedImage.sealed)).scalars().all()
    assert len(sealed) == 2 and all(png()[:64] not in blob for blob in sealed)  # sealed, not stored in clear
    assert session.execute(select(Encounter)).first() is None

    again = client.post(
        "/enrol",
        data={**form, **{f"{name}_staged": value for name, value in kept.items()}},
        files=[("m1_photo", ("jean.png", png(180, 40), "image/png"))],
    )
    assert again.status_code == 303, again.text
    samples = session.execute(select(BiometricSample.modality, BiometricSample.finger_position)).all()
    assert sorted(samples, key=str) == sorted([("face", None), ("finger", 2), ("face", None)], key=str)
    assert session.execute(select(func.count()).select_from(StagedImage)).scalar_one() == 0  # used, then deleted


def test_a_staged_image_is_the_officers_own_and_expires(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    form = family_form(client)
    files = [("m0_photo", ("rosa.png", png(), "image/png")), ("m1_photo", ("x.png", b"\x89PNG broken", "image/png"))]
    kept = staged_ids(client.post("/enrol", data=form, files=files).text)["m0_photo"]
    other = make_user("oficial.otra", Role.REGISTRATION_OFFICER)
    cookie, _ = auth_service._new_web_session(session, auth_ctx, other, auth_service.STAGE_FULL, station_id=None)
    session.commit()
    client.cookies.set("travesia_session", cookie)
    assert client.get(f"/enrol/staged/{kept}").status_code == 404  # another officer's reads as missing
    form = family_form(client)
    steal = client.post("/enrol", data={**form, "m0_photo_staged": kept, "m1_consent": ""})
    assert steal.status_code == 303  # stored, but without the other officer's photo
    assert session.execute(select(BiometricSample)).first() is None
    row = session.get(StagedImage, __import__("uuid").UUID(kept))
    assert staging.sweep(session, row.created_at + staging.KEPT_FOR / 2) == 0
    assert staging.sweep(session, row.created_at + staging.KEPT_FOR * 2) == 1


def test_a_photo_over_the_size_limit_is_refused_on_its_field(client, make_user, session, auth_ctx):
    """A 15 MB photo (a phone's full-resolution picture) is refused on its own field, the rest of the form kept."""
    signed_in(client, make_user, session, auth_ctx)
    form = family_form(client)
    files = [
        ("m0_photo", ("rosa.png", png(), "image/png")),
        ("m1_photo", ("big.jpg", b"\xff" * (15 << 20), "image/jpeg")),
    ]
    page = client.post("/enrol", data=form, files=files)
    assert page.status_code == 422
    assert "Persona 2, foto: El archivo pesa más de 8 MB." in page.text
    assert set(staged_ids(page.text)) == {"m0_photo"}
