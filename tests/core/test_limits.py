"""Bounded inputs: bodies counted as they stream, images checked from their header before decoding, 422 answers
that never echo the input, and the headers that keep personal data out of caches."""

import asyncio
import json
import struct
import time
import zlib

import pytest

from tests.biometrics.conftest import png, portrait  # noqa: F401  (fixture)
from tests.conftest import token_for
from tests.enrolment.conftest import officer, person  # noqa: F401  (fixture)
from travesia.app import BODY_LIMITS
from travesia.core.images import ImageRefused, opened
from travesia.core.principal import Role
from travesia.enrolment.api import MAX_UPLOAD

CHUNK = 64 * 1024


def png_claiming(width: int, height: int) -> bytes:
    """A real 1-bit PNG of width × height, all black: a few kB on disk, width × height pixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png_claiming(13_000, 13_000)  # 169 megapixels, as in the report
    assert len(data) < 64 * 1024
    return data


def test_an_image_of_169_megapixels_is_refused_before_decoding(bomb):
    started = time.perf_counter()
    with pytest.raises(ImageRefused) as refused, opened(bomb, ["PNG"]) as image:
        image.load()
    assert refused.value.code == "too_many_pixels"
    assert time.perf_counter() - started < 0.5  # decoding it takes ~20 s of CPU
    with pytest.raises(ImageRefused) as beyond, opened(png_claiming(20_000, 20_000), ["PNG"]):
        pass  # over Pillow's own bomb limit, where it raises at open
    assert beyond.value.code == "too_many_pixels"


def test_formats_not_named_and_several_frames_are_refused(portrait):  # noqa: F811
    from io import BytesIO

    gif = BytesIO()
    portrait.save(gif, format="GIF", save_all=True, append_images=[portrait.rotate(90)])
    with pytest.raises(ImageRefused) as other, opened(gif.getvalue(), ["PNG", "JPEG"]):
        pass
    assert other.value.code == "unreadable"
    with pytest.raises(ImageRefused) as frames, opened(gif.getvalue(), ["GIF"]):
        pass
    assert frames.value.code == "frames"
    with pytest.raises(ImageRefused) as truncated, opened(png(portrait)[:5000], ["PNG"]) as image:
        image.load()
    assert truncated.value.code == "unreadable"


def test_every_image_route_answers_422_not_500(client, officer, make_user, session, auth_ctx, bomb):  # noqa: F811
    analyst = token_for(make_user, session, auth_ctx, "analista.limites", Role.ANALYST)
    for payload in (bomb, b"not an image at all", b""):
        files = {"image": ("x.png", payload, "image/png")}
        quality = client.post("/api/v1/biometrics/face-quality", files=files, headers=officer)
        assert quality.status_code == 422, quality.text
        for modality in ("face", "finger"):
            search = client.post(f"/api/v1/biometrics/search?modality={modality}", files=files, headers=analyst)
            assert search.status_code == 422, search.text
            assert search.json()["detail"][0]["loc"] == ["body", "image"]
        data = {"data": json.dumps(person())}
        enrol = client.post(
            "/api/v1/encounters", data=data, files={"photo": ("x.png", payload, "image/png")}, headers=officer
        )
        assert enrol.status_code == 422 and enrol.json()["detail"][0]["loc"] == ["body", "photo"], enrol.text


def asgi_post(app, path: str, headers: dict[str, str], total: int, first: bytes = b"") -> tuple[int, int, bytes]:
    """POST ``total`` bytes to the app in 64 kB chunks with no Content-Length (chunked transfer), as a server
    would hand them over; returns the status, how many bytes the app pulled, and the answer's body."""
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.request", "body": b"", "more_body": False}
        body = first + b"x" * (CHUNK - len(first)) if pulled == 0 else b"x" * CHUNK
        pulled += CHUNK
        return {"type": "http.request", "body": body, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], pulled, body


def test_a_chunked_200_mb_body_is_refused_after_reading_at_most_the_limit(app, officer):  # noqa: F811
    headers = {**officer, "content-type": "application/json"}
    status, pulled, body = asgi_post(app, "/api/v1/encounters", headers, 200 * 1024 * 1024)
    assert status == 413
    assert pulled <= MAX_UPLOAD + CHUNK
    detail = json.loads(body)["detail"][0]
    assert detail["loc"] == ["body"] and detail["type"] == "too_large" and "40 MB" in detail["msg"]
    multipart = {**officer, "content-type": "multipart/form-data; boundary=xyz"}
    part = b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n\r\n'
    status, pulled, _ = asgi_post(app, "/api/v1/encounters", multipart, 200 * 1024 * 1024, part)
    assert status == 413 and pulled <= MAX_UPLOAD + CHUNK
    plain_json = {"content-type": "application/json"}  # FastAPI reads a JSON body before it authenticates
    status, pulled, _ = asgi_post(app, "/api/v1/watchlists", plain_json, 50 << 20)
    assert status == 413 and pulled <= 2 * 1024 * 1024 + CHUNK  # every other route: 2 MB


def test_a_declared_length_over_the_limit_is_refused_unread(client, officer):  # noqa: F811
    response = client.post(
        "/api/v1/encounters", content=b"{}", headers={**officer, "content-length": str(MAX_UPLOAD + 1)}
    )
    assert response.status_code == 413
    assert all(pattern.startswith("/") for pattern, _ in BODY_LIMITS)


def test_422_names_the_field_in_the_callers_language_without_echoing_input(client, officer):  # noqa: F811
    secret = "Z" * 5000
    body = person(sex=secret, given_names="")
    response = client.post("/api/v1/encounters", json=body, headers={**officer, "Accept-Language": "es"})
    assert response.status_code == 422
    assert secret not in response.text and "input" not in response.text
    fields = {tuple(d["loc"]): d["msg"] for d in response.json()["detail"]}
    assert ("body", "sex") in fields
    english = client.post("/api/v1/encounters", json={"id": "x"}, headers={**officer, "Accept-Language": "en"})
    assert "This field is required." in {d["msg"] for d in english.json()["detail"]}


def test_personal_data_is_never_cached_and_https_is_pinned(client, officer):  # noqa: F811
    api = client.get("/api/v1/encounters", headers=officer)
    assert api.headers["cache-control"] == "no-store"
    page = client.get("/login")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["strict-transport-security"].startswith("max-age=")
    static = client.get("/static/travesia.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
