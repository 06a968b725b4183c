"""The demo as a person meets it, in Debian's Chromium: one `travesia serve` on the demo data for every browser test
(as `make demo` serves it, over plain http://127.0.0.1 with Secure cookies), a fresh browser context per test, and
axe-core (installed from the npm registry by `make browser`) run on every page a journey visits."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database
from tests.live import cli_env, run_cli, serving

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")  # axe's impacts that fail a page

# CI installs Chromium and axe-core (make test); only a developer machine without them may skip.
needs_browser = pytest.mark.skipif(
    (CHROMIUM is None or not AXE.exists()) and not os.environ.get("CI"),
    reason="Debian's chromium or axe-core not installed (make browser)",
)


@dataclass(frozen=True)
class Demo:
    base: str
    password: str
    secrets: dict[str, str]  # username → TOTP secret, for the roles that need a second factor
    database_url: str


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, database_under_test: str | None) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    url = _create_pg_database(PG_URL) if PG_URL else f"sqlite:///{folder / 'demo.db'}"
    env = cli_env(url, folder)
    try:
        assert run_cli(env, "db", "upgrade").returncode == 0
        setup = run_cli(env, "demo", "setup", "--people", "200")
        assert setup.returncode == 0, setup.stderr
        password = re.search(r"password: (\S+)", setup.stdout).group(1)
        secrets = dict(re.findall(r"(demo-[\w-]+)\s+│\s+\w+\s+│\s+([A-Z2-7]{32})", setup.stdout))
        with serving(env, folder / "server.log") as base:
            yield Demo(base, password, secrets, url)
    finally:
        if PG_URL:
            _drop_pg_database(PG_URL, url)


def fake_camera_video(path: Path) -> Path:
    """A Y4M clip of scikit-image's public-domain astronaut portrait: Chromium's fake camera plays it, so the
    camera capture runs end to end without a webcam."""
    from PIL import Image
    from skimage import data

    frame = Image.fromarray(data.astronaut()).resize((640, 640)).convert("YCbCr")
    y, cb, cr = frame.split()
    half = (320, 320)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H640 F5:1 Ip A1:1 C420jpeg\n" + (b"FRAME\n" + planes) * 2)
    return path


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    video = fake_camera_video(tmp_path_factory.mktemp("camera") / "face.y4m")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM or "/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",  # grants the camera without a prompt
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Pages in their own browser contexts (their own cookies): two people at two desks."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


_LAST_STEP: dict[str, int] = {}


def totp_code(username: str, secret: str) -> str:
    """The authenticator's code, never one already used: the server refuses a replayed code, so a second sign-in
    within the same 30 s takes the next step (accepted for clock drift), or waits for it."""
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // totp.interval
        step = max(now, _LAST_STEP.get(username, -1) + 1)
        if step <= now + 1:
            _LAST_STEP[username] = step
            return totp.generate_otp(step)
        time.sleep(1)


def sign_in(page, demo: Demo, username: str, check: bool = False) -> None:
    """The login form, as a person fills it (with the authenticator's code where the role needs one), up to the
    home page; with ``check``, axe on the second-factor page on the way."""
    page.goto(f"{demo.base}/login")
    page.fill("#username", username)
    page.fill("#password", demo.password)
    page.click("button[type=submit]")
    if username in demo.secrets:
        page.wait_for_url(f"{demo.base}/login/second-factor")
        if check:
            accessible(page, "login-second-factor")
        page.fill("#code", totp_code(username, demo.secrets[username]))
        page.click("button[type=submit]")
    page.wait_for_url(f"{demo.base}/")


def sign_out(page) -> None:
    page.click('button:has-text("Cerrar sesión"), button:has-text("Sign out")')
    page.wait_for_url(re.compile(r".*/login$"))


def accessible(page, name: str, shot: bool = True) -> None:
    """axe-core on the page as it stands: no serious or critical violation (the rules of WCAG 2.1 A and AA, and
    axe's best practices); a screenshot under test-output/screenshots/NAME.png either way (unless shot=False)."""
    if shot:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if not AXE.exists():
        raise AssertionError(f"axe-core is missing at {AXE}: run make browser")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the pages' CSP allows no inline code
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "where": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{name} ({page.url}): " + json.dumps(blocking, ensure_ascii=False, indent=1)
    in_its_language(page, name)


# The page's words, as a reader sees them: text nodes and the labels a screen reader speaks (alt, aria-label, title,
# placeholder), leaving out what is data rather than the interface: code, preformatted text, what a person typed,
# and anything marked translate="no" (names, list entries, partners' own words, identifiers).
VISIBLE_WORDS = """() => {
  const skip = el => el.closest('script, style, code, pre, textarea, [translate=no], [hidden]');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text && !skip(node.parentElement)) out.push([node.parentElement.tagName.toLowerCase(), text]);
  }
  for (const el of document.body.querySelectorAll('[alt], [aria-label], [title], [placeholder]')) {
    if (skip(el)) continue;
    for (const attr of ['alt', 'aria-label', 'title', 'placeholder']) {
      const value = (el.getAttribute(attr) || '').trim();
      if (value) out.push([attr, value]);
    }
  }
  return out;
}"""
RAW_CODE = re.compile(
    r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\.[a-z]+_[a-z_]+\b|\b(?:auth|alert|person|encounter|protection)\.[a-z]+\b"
)
FUNCTION_WORDS = {
    # words a sentence of the other language can hardly do without, and that names rarely are
    "es": {
        "the",
        "and",
        "with",
        "is",
        "are",
        "this",
        "that",
        "your",
        "you",
        "has",
        "have",
        "been",
        "not",
        "from",
        "of",
        "for",
        "which",
        "was",
        "will",
        "can",
        "than",
    },
    "en": {
        "el",
        "los",
        "las",
        "una",
        "para",
        "que",
        "con",
        "está",
        "por",
        "sus",
        "más",
        "del",
        "esta",
        "este",
        "son",
        "como",
        "pero",
        "ya",
        "ningún",
        "ninguna",
        "aún",
    },
}


def in_its_language(page, name: str) -> None:
    """No raw code (``auth.login``, ``child_protection``) and no sentence of the other language on a page: two or
    more of the other language's function words in one piece of text fail it."""
    language = page.locator("html").get_attribute("lang") or "es"
    problems = []
    for where, text in page.evaluate(VISIBLE_WORDS):
        if RAW_CODE.search(text):
            problems.append(f"raw code in <{where}>: {text[:120]!r}")
        words = set(re.findall(r"[a-záéíóúñü]+", text.lower()))
        foreign = words & FUNCTION_WORDS.get(language, set())
        if len(foreign) >= 2:
            problems.append(f"not in {language} ({', '.join(sorted(foreign))}) in <{where}>: {text[:120]!r}")
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(dict.fromkeys(problems))
