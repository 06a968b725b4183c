"""Every role's day, in Debian's Chromium against `travesia serve` on the demo data: each journey as a new user
walks it, axe-core on every page visited (no serious or critical violation), screenshots under
test-output/screenshots/ (the user guide's figures: `make screenshots`)."""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.web.conftest import Demo, accessible, needs_browser, sign_in, sign_out
from travesia.synth.fingerprints import impression

pytestmark = [needs_browser, pytest.mark.xdist_group("browser")]  # one demo server for all

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


def query(demo: Demo, sql: str, **params: object) -> list:
    engine = create_engine(demo.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def as_uuid(value: object) -> uuid.UUID:
    return uuid.UUID(str(value))  # SQLite hands back 32 hex digits, PostgreSQL a UUID


def test_officer_signs_in_and_sees_role_and_station(demo, page):
    page.goto(f"{demo.base}/")
    assert page.url.startswith(f"{demo.base}/login")
    assert page.locator("h1").inner_text() == "Iniciar sesión"
    accessible(page, "login-es")
    page.click("a[hreflang=en]")
    assert page.locator("h1").inner_text() == "Sign in"
    accessible(page, "login-en")
    page.click("a[hreflang=es]")
    page.fill("#username", "demo-registro")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.input_value("#username") == "demo-registro"  # the form keeps what was typed
    page.fill("#password", demo.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.base}/")
    assert "Oficial de registro" in page.locator("#roles").inner_text()
    assert "ERM San Vicente" in page.locator("#station").inner_text()
    accessible(page, "home-registration-officer")
    page.select_option("#station_id", label="ERM Lajas Blancas")
    page.click('button:has-text("Cambiar")')
    assert "ERM Lajas Blancas" in page.locator("#station").inner_text()
    sign_out(page)


def test_admin_passes_the_second_factor_and_manages_users(demo, page, new_page):
    sign_in(page, demo, "demo-admin")
    assert "Administrador/a" in page.locator("#roles").inner_text()
    page.click("nav >> text=Usuarios")
    assert page.locator("table tbody tr").count() == len(query(demo, "SELECT id FROM users"))
    accessible(page, "admin-users")
    page.click("text=demo-registro")
    accessible(page, "admin-user")
    page.goto(f"{demo.base}/admin/users/new")
    page.fill("#username", "nueva.oficial")
    page.fill("#display_name", "Nueva Oficial")
    page.fill("#password", "una contraseña larga para la prueba")
    page.click("main button[type=submit]")  # no role chosen: refused, and what was typed stays
    assert page.locator("#roles-error").is_visible()
    assert page.input_value("#username") == "nueva.oficial" and page.input_value("#display_name") == "Nueva Oficial"
    accessible(page, "admin-user-new-error")
    page.fill("#password", "una contraseña larga para la prueba")  # a password is never sent back
    page.check("input[name=roles][value=analyst]")
    page.check("input[name=stations][value=SNM-HQ]")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/users/[0-9a-f-]+$"))

    newcomer = new_page()  # the new analyst's first sign-in: the second factor is set up before anything else
    newcomer.goto(f"{demo.base}/login")
    newcomer.fill("#username", "nueva.oficial")
    newcomer.fill("#password", "una contraseña larga para la prueba")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(f"{demo.base}/login/second-factor/setup")
    accessible(newcomer, "second-factor-setup")


def test_officer_enrols_a_family_of_three(demo, page, tmp_path):
    sign_in(page, demo, "demo-registro")
    page.click("nav >> text=Registrar")
    page.select_option("#group_kind", "family")
    page.fill("#m0_given_names", "Anna Maria")
    page.fill("#m0_surnames", "Eriksson")
    page.select_option("#m0_sex", "F")
    page.fill("#m0_birth_date", "1974-08-12")
    page.fill("#m0_nationality", "UTO")
    page.fill("#m0_mrz", TD3)
    page.locator("#m0_mrz_feedback").get_by_text("TD3").wait_for()  # instant check of the zone
    page.check("#m0_consent_given")
    page.click("[data-camera=m0] >> text=Usar la cámara")  # the station's webcam (here Chromium's fake camera)
    page.wait_for_selector("#m0_quality[data-acceptable=yes]", timeout=30_000)  # live feedback on the frames
    accessible(page, "enrol-camera-live")
    page.click("[data-camera=m0] >> text=Tomar la foto")
    page.wait_for_selector("#m0_quality[data-final=yes]", timeout=30_000)  # the still's own verdict
    assert page.text_content("#m0_quality") == "Foto correcta."
    assert page.eval_on_selector("#m0_photo", "input => input.files.length") == 1  # the still is in the form
    page.click("summary:has-text('Huellas')")
    for position in (2, 7):  # both index fingers, as the scanner saves them
        scan = tmp_path / f"finger-{position}.png"
        scan.write_bytes(impression(seed=9000 + position, take=0))
        page.set_input_files(f"#m0_fingerprint_{position}", str(scan))
    for index, (given, born, sex) in enumerate([("Lars", "2016", "M"), ("Greta", "2019-04-02", "F")], start=1):
        page.click("button:has-text('Añadir un miembro')")
        page.wait_for_selector(f"#m{index}_surnames")
        page.select_option(f"#m{index}_relation", "child")
        page.fill(f"#m{index}_given_names", given)
        page.fill(f"#m{index}_surnames", "Eriksson")
        page.select_option(f"#m{index}_sex", sex)
        page.fill(f"#m{index}_birth_date", born)
    accessible(page, "enrol-family-form")
    page.click("button:has-text('Guardar el registro')")
    page.wait_for_url(re.compile(r".*/enrol/receipt/.*"))
    assert page.locator("h1").inner_text() == "Registro guardado"
    rows = page.locator("table tbody tr")
    assert rows.count() == 3
    assert "acompañado" in rows.nth(1).inner_text() and "acompañado" in rows.nth(2).inner_text()
    status = page.locator(".bio-status").first  # the receipt polls the biometric step's outcome
    status.get_by_text("Índice derecho").wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('.bio-status').textContent.includes('comprobando')", timeout=60_000
    )
    outcome = " ".join(status.inner_text().split())
    assert "Foto: aceptada" in outcome and outcome.count("aceptada") == 3, outcome  # the photo and both fingers
    accessible(page, "enrol-family-receipt")


def test_a_refused_photo_keeps_the_other_members_photos(demo, page, tmp_path):
    """The reported loss: a 15 MB photo refused on one member dropped the valid photo attached to another."""
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(tmp_path / "mother.png")
    (tmp_path / "phone.jpg").write_bytes(b"\xff\xd8" + b"\x00" * (15 << 20))
    Image.fromarray(data.astronaut()[:, ::-1]).save(tmp_path / "father.png")
    sign_in(page, demo, "demo-registro")
    page.click("nav >> text=Registrar")
    page.select_option("#group_kind", "family")
    for index, (given, sex, born) in enumerate([("Marie", "F", "1991-03-04"), ("Jean", "M", "1989-10-11")]):
        if index:
            page.click("button:has-text('Añadir un miembro')")
            page.wait_for_selector(f"#m{index}_surnames")
            page.select_option(f"#m{index}_relation", "spouse")
        page.fill(f"#m{index}_given_names", given)
        page.fill(f"#m{index}_surnames", "Joseph")
        page.select_option(f"#m{index}_sex", sex)
        page.fill(f"#m{index}_birth_date", born)
        page.check(f"#m{index}_consent_given")
    page.set_input_files("#m0_photo", str(tmp_path / "mother.png"))
    page.set_input_files("#m1_photo", str(tmp_path / "phone.jpg"))
    page.click("button:has-text('Guardar el registro')")
    page.wait_for_selector("#refused-images")
    assert "Persona 2, foto: El archivo pesa más de 8 MB." in page.inner_text("#refused-images")
    kept = page.locator("#m0_photo-kept img")
    page.wait_for_function("() => document.querySelector('#m0_photo-kept img').complete")  # the thumbnail loads
    assert page.eval_on_selector("#m0_photo-kept img", "img => img.naturalWidth") == 512
    assert "Conservada de antes" in page.inner_text("#m0_photo-kept") and kept.count() == 1
    assert page.locator("#m1_photo-kept").count() == 0 and page.input_value("#m1_given_names") == "Jean"
    accessible(page, "enrol-kept-images")
    page.set_input_files("#m1_photo", str(tmp_path / "father.png"))
    page.click("button:has-text('Guardar el registro')")
    page.wait_for_url(re.compile(r".*/enrol/receipt/.*"))
    faces = query(
        demo,
        "SELECT e.given_names FROM biometric_samples s JOIN encounters e ON e.id = s.encounter_id "
        "WHERE s.modality = 'face' AND e.surnames = 'Joseph'",
    )
    assert sorted(row[0] for row in faces) == ["Jean", "Marie"]  # the mother's photo was not attached twice


def test_analyst_proposes_and_a_second_analyst_confirms_an_alert(demo, new_page):
    first = new_page()
    sign_in(first, demo, "demo-analista")
    first.click("nav >> text=Alertas")
    accessible(first, "alerts-queue")
    first.locator("table tbody tr a").first.click()
    first.wait_for_url(re.compile(r".*/alerts/[0-9a-f-]+$"))
    alert_url = first.url
    accessible(first, "alert-open")
    first.click('button[value="take"]')
    first.fill("#reason", "Mismo nombre y fecha de nacimiento; nacionalidad coincide.")
    first.click('button[value="propose"]')
    first.wait_for_selector("#reviews >> text=demo-analista")
    assert first.locator('button[value="confirm"]').count() == 0  # nobody confirms their own proposal

    second = new_page()
    sign_in(second, demo, "demo-analista-2")
    second.goto(alert_url)
    accessible(second, "alert-second-reviewer")
    second.fill("#reason", "Revisado: coincide con la entrada de la lista.")
    second.click('button[value="confirm"]')
    second.wait_for_selector("text=Decidida:")
    assert "confirmada" in second.locator("#decide-h + p, section[aria-labelledby=decide-h]").first.inner_text()
    history = second.locator("#reviews li").all_inner_texts()
    assert [h.split(" · ")[1].split()[0] for h in history] == ["demo-analista", "demo-analista", "demo-analista-2"]
    accessible(second, "alert-confirmed")


def qr_text_of(pdf: bytes, folder) -> str:
    """What a checkpoint's scanner reads from the printed pass: the PDF drawn to an image, its QR code decoded."""
    import zxingcpp
    from PIL import Image

    (folder / "pass.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(folder / "pass.pdf"), str(folder / "pass")],
                   check=True)  # fmt: skip
    [code] = zxingcpp.read_barcodes(Image.open(folder / "pass.png"))
    return code.text


def test_protection_officer_works_a_case_and_the_pass_verifies(demo, page, tmp_path):
    [(person,)] = query(demo, "SELECT person_id FROM encounters WHERE birth_year < 2000 ORDER BY id LIMIT 1")
    person = as_uuid(person)
    sign_in(page, demo, "demo-proteccion")
    page.click("nav >> text=Protección")
    page.wait_for_url(f"{demo.base}/protection")
    page.goto(f"{demo.base}/protection/persons/{person}")
    assert page.locator("#holds [data-code^='claim:']").count() == 0
    page.select_option("#case-kind", "general")
    page.click('button:has-text("Abrir caso")')
    page.wait_for_selector("article.card textarea")
    page.locator("article.card textarea").first.fill("Entrevista inicial; pide información sobre asilo.")
    page.click('button:has-text("Guardar nota")')
    page.wait_for_selector("ul.notes >> text=Entrevista inicial")
    assert page.locator("#holds [data-code='case:general']").inner_text() == "caso de protección abierto: general"
    page.click("#record-intention")
    page.wait_for_selector("#holds [data-code='claim:intention']")
    page.fill("#destination", "")
    page.click("#issue-pass")  # the browser asks for the destination first
    assert page.locator("#pass-issued").count() == 0
    page.fill("#destination", "Paso Canoas (CRI)")
    page.click("#issue-pass")
    page.wait_for_selector("#pass-issued")
    accessible(page, "protection-person")
    href = page.locator("#pass-issued a").get_attribute("href")
    pdf = page.request.get(f"{demo.base}{href}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    page.goto(f"{demo.base}/verify-pass")  # at a checkpoint: the scanner's text pasted into the page
    page.fill("#token", qr_text_of(pdf.body(), tmp_path))
    with page.expect_navigation():  # the form is a GET: wait for the page it loads, not the one it leaves
        page.click('button:has-text("Verificar")')
    assert page.locator("#verdict").inner_text().startswith("Salvoconducto válido")
    accessible(page, "pass-verified")
    page.fill("#token", qr_text_of(pdf.body(), tmp_path)[:-3] + "AAA")  # a forged signature
    with page.expect_navigation():
        page.click('button:has-text("Verificar")')
    assert page.locator("#verdict").inner_text().startswith("No válido")

    page.goto(f"{demo.base}/protection")
    row = page.locator("#queue tbody tr", has_text="general")
    assert row.count() == 1 and "suyo" in row.inner_text()  # the officer's own case, first in the queue
    accessible(page, "protection-queue")


def test_programme_officer_builds_a_manifest_and_the_gate_refuses_a_protected_person(demo, new_page):
    officer = new_page()
    sign_in(officer, demo, "demo-programas")
    officer.click("nav >> text=Vuelos")
    officer.fill("#departs_on", "2026-13-01")  # refused by the browser's date field: typed by script instead
    officer.evaluate("document.getElementById('departs_on').type = 'text'")
    officer.fill("#departs_on", "2026-13-01")
    officer.fill("#destination", "HTI")
    officer.fill("#capacity", "60")
    officer.fill("#operator", "Servicio Nacional Aeronaval")
    officer.click("#create-flight")
    assert officer.locator("#departs_on-error").is_visible()  # named field, and what was typed is kept
    assert (
        officer.input_value("#operator") == "Servicio Nacional Aeronaval" and officer.input_value("#capacity") == "60"
    )
    accessible(officer, "flights-form-error")
    officer.evaluate("document.getElementById('departs_on').type = 'date'")
    officer.fill("#departs_on", "2026-12-15")
    officer.click("#create-flight")
    officer.wait_for_url(re.compile(r".*/flights/[0-9a-f-]+$"))
    flight_url = officer.url
    accessible(officer, "flight-planned")

    # an eligible Haitian declares an intention to seek asylum while the officer's page is open
    protected = as_uuid(officer.locator("#eligible tbody tr:has(button)").first.get_attribute("data-person"))
    desk = new_page()
    sign_in(desk, demo, "demo-proteccion")
    desk.goto(f"{demo.base}/protection/persons/{protected}")
    desk.click("#record-intention")
    desk.wait_for_selector("#holds [data-code='claim:intention']")
    officer.locator(f"tr[data-person='{protected}'] button").click()
    officer.wait_for_selector("#refused")
    assert officer.locator("#refused [data-code='claim:intention']").count() == 1
    assert "asilo" in officer.locator("#refused").inner_text()
    accessible(officer, "flight-gate-refuses")
    officer.goto(flight_url)  # reloaded, the person is listed with the reason and no button
    assert officer.locator(f"tr[data-person='{protected}'] [data-code='claim:intention']").count() == 1
    assert officer.locator(f"tr[data-person='{protected}'] button").count() == 0

    # another family is placed whole (one whose relative is protected is refused too: the next one is tried)
    candidates = officer.eval_on_selector_all(
        "#eligible tbody tr:has(button)", "rows => rows.map(r => r.dataset.person)"
    )
    for candidate in candidates[:6]:
        officer.goto(flight_url)
        officer.locator(f"tr[data-person='{candidate}'] button").click()
        officer.wait_for_selector("#manifest, #refused")
        if officer.locator("#manifest tbody tr").count():
            break
    assert officer.locator("#manifest tbody tr").count() >= 1
    accessible(officer, "flight-manifest")
    refusals = query(demo, "SELECT outcome FROM audit_events WHERE action = 'programmes.place' AND record_id = :p",
                     p=str(protected))  # fmt: skip
    assert refusals and {r.outcome for r in refusals} == {"refused"}  # the trail keeps every refusal, no placement


def test_partner_liaison_exports_under_an_agreement(demo, page):
    sign_in(page, demo, "demo-enlace")
    page.click("nav >> text=Socios")
    accessible(page, "exchange-agreements")
    assert "fecha de nacimiento" in page.inner_text("#agreements")  # the agreement's fields in words
    page.select_option("#agreement", "co-demo")
    page.select_option("#purpose", "identity verification")  # another agreement's purpose: refused, the rest kept
    page.select_option("#format", "jsonl")
    page.click('button:has-text("Exportar")')
    assert page.locator("#purpose-error").is_visible() and page.input_value("#agreement") == "co-demo"
    assert page.input_value("#format") == "jsonl"
    page.select_option("#agreement", "dhs-demo")
    page.select_option("#purpose", "border security")
    page.click('button:has-text("Exportar")')
    page.wait_for_url(re.compile(r".*/exchange/exports/[0-9a-f-]+$"))
    page.wait_for_selector("#export-state[data-code=done]", timeout=60_000)  # the page refreshes while it runs
    assert int(page.locator("#export-records").inner_text()) > 0
    accessible(page, "exchange-export")
    with page.expect_download() as download:
        page.click("#export-download")
    assert download.value.path().stat().st_size > 0


def test_statistician_reads_the_dashboard(demo, page):
    sign_in(page, demo, "demo-estadistica")
    page.click("nav >> text=Estadísticas")
    page.wait_for_url(re.compile(r".*/statistics$"))
    page.select_option("#grain", "month")
    page.fill("#start", "2021-01-01")
    page.click('button:has-text("Mostrar")')
    page.wait_for_url(re.compile(r".*/statistics\?.*grain=month.*"))
    charts = page.locator("svg.chart")
    assert charts.count() >= 11
    assert all(charts.nth(i).is_visible() for i in range(charts.count()))
    assert page.locator("#chart-arrivals_station svg rect").count() > 10  # columns drawn
    accessible(page, "statistics-dashboard")
    page.goto(f"{demo.base}/statistics/forecast")
    accessible(page, "statistics-forecast")


def test_auditor_verifies_the_chain_and_reads_who_looked_at_a_person(demo, new_page):
    [(person,)] = query(demo, "SELECT person_id FROM encounters ORDER BY id DESC LIMIT 1")
    person = as_uuid(person)
    reader = new_page()
    sign_in(reader, demo, "demo-supervisor")
    reader.goto(f"{demo.base}/persons/{person}")
    accessible(reader, "person-page")

    auditor = new_page()
    sign_in(auditor, demo, "demo-auditoria")
    auditor.click("nav >> text=Registro de auditoría")
    accessible(auditor, "audit-events")
    auditor.click('button:has-text("Verificar la cadena")')
    auditor.wait_for_selector("#verdict .notice")
    assert "íntegra" in auditor.locator("#verdict").inner_text()
    accessible(auditor, "audit-verified")
    auditor.goto(f"{demo.base}/audit")
    auditor.fill("#f-record", str(person))
    auditor.click('button:has-text("Filtrar")')
    rows = auditor.locator("table tbody tr")
    assert rows.count() >= 1
    assert any("demo-supervisor" in rows.nth(i).inner_text() for i in range(rows.count()))
    accessible(auditor, "audit-who-looked")


def test_pages_outside_the_menus_are_accessible(demo, page):
    """The second factor, a search's results, a person, their network, an error page and the pass check."""
    sign_in(page, demo, "demo-analista", check=True)
    page.goto(f"{demo.base}/persons?q=Rojas")
    accessible(page, "persons-search", shot=False)
    page.locator("main a[href^='/persons/']").first.click()
    page.wait_for_url(re.compile(r".*/persons/[0-9a-f-]+$"))
    accessible(page, "person-page-analyst", shot=False)
    page.click("a[href^='/network/persons/']")
    page.wait_for_selector("main h1")
    accessible(page, "network-person")
    missing = page.goto(f"{demo.base}/persons/00000000-0000-7000-8000-000000000000")
    assert missing.status == 404
    accessible(page, "not-found", shot=False)
    page.goto(f"{demo.base}/verify-pass")
    accessible(page, "verify-pass-empty", shot=False)


def test_pages_outside_the_menus_read_in_english_too(demo, page):
    """The pages one opens from a list, in English: a search, a person, their network, an alert, an identity
    proposal and the protection file — axe and the words check on each (the journeys walk them in Spanish)."""
    sign_in(page, demo, "demo-supervisor")
    page.goto(f"{demo.base}/lang/en?next=/")
    page.goto(f"{demo.base}/persons?q=Rojas")
    accessible(page, "en-persons-search", shot=False)
    page.locator("main a[href^='/persons/']").first.click()
    page.wait_for_url(re.compile(r".*/persons/[0-9a-f-]+$"))
    assert page.locator("html").get_attribute("lang") == "en"
    accessible(page, "en-person-page", shot=False)
    person = page.url.rsplit("/", 1)[1]
    page.goto(f"{demo.base}/network/persons/{person}")
    accessible(page, "en-network-person", shot=False)
    page.goto(f"{demo.base}/protection/persons/{person}")
    accessible(page, "en-protection-file", shot=False)
    page.goto(f"{demo.base}/alerts")
    page.locator("main table tbody a[href^='/alerts/']").first.click()
    page.wait_for_url(re.compile(r".*/alerts/[0-9a-f-]+$"))
    accessible(page, "en-alert", shot=False)
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from travesia.models import IdentityDecision

    two = [as_uuid(r[0]) for r in query(demo, "SELECT DISTINCT person_id FROM encounters ORDER BY person_id LIMIT 2")]
    engine = create_engine(demo.database_url)
    with Session(engine) as session:  # a proposal as batch resolution makes them (the small demo has none)
        session.execute(insert(IdentityDecision), [{
            "kind": "merge", "state": "proposed", "source": "batch", "person_id": two[0], "from_person_id": two[1],
            "score": 0.91, "evidence": [{"feature": "name", "level": "similar", "bits": 4.2}], "moves": [],
            "encounter_ids": [], "reason": "",
        }])  # fmt: skip
        session.commit()
    engine.dispose()
    page.goto(f"{demo.base}/identity/proposals")
    accessible(page, "en-identity-proposals", shot=False)
    page.locator("#proposals a[href^='/identity/proposals/']").first.click()
    page.wait_for_url(re.compile(r".*/identity/proposals/\d+$"))
    accessible(page, "en-identity-proposal", shot=False)


ROLES = ["demo-registro", "demo-analista", "demo-supervisor", "demo-proteccion", "demo-programas", "demo-enlace",
         "demo-estadistica", "demo-auditoria", "demo-admin"]  # fmt: skip


QUEUE_ALERTS = 2000


def test_an_analyst_works_a_queue_of_two_thousand_alerts(demo, page):
    """A day's volume: 2,000 alerts raised on a past January (so the demo's own queue is untouched), worked by date,
    page after page; the one taken is found under "mine"."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from travesia.models import Alert

    encounters = [as_uuid(r[0]) for r in query(demo, "SELECT id FROM encounters ORDER BY id LIMIT 40")]
    entries = [as_uuid(r[0]) for r in query(demo, "SELECT id FROM watchlist_entries ORDER BY id LIMIT 10")]
    start = datetime(2025, 1, 31, 12, tzinfo=UTC)
    rows = [
        {"id": uuid.uuid4(), "dedupe_key": f"browser-queue-{n}", "encounter_id": encounters[n % len(encounters)],
         "kind": "watchlist", "entry_id": entries[n % len(entries)], "score": 0.5 + (n % 40) / 100,
         "priority": 3, "explanation": [], "state": "open", "created_at": start - timedelta(minutes=20 * n)}
        for n in range(QUEUE_ALERTS)
    ]  # fmt: skip
    engine = create_engine(demo.database_url)
    with Session(engine) as session:
        session.execute(insert(Alert), rows)
        session.commit()
    engine.dispose()

    sign_in(page, demo, "demo-analista")
    page.click("nav >> text=Alertas")
    page.fill("#q-since", "2025-01-01")
    page.fill("#q-until", "2025-01-31")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*since=2025-01-01.*"))
    assert f"Por revisar ({QUEUE_ALERTS})" in page.inner_text("nav[aria-label='Estados de las alertas']")
    accessible(page, "alerts-queue-2000")
    seen: list[str] = []
    for _ in range(3):
        ids = page.eval_on_selector_all("main table tbody a[href^='/alerts/']", "links => links.map(a => a.href)")
        assert len(ids) == 50 and not set(ids) & set(seen)  # a page of 50, never one seen before
        seen += ids
        page.click("a[rel=next]")
        page.wait_for_url(re.compile(r".*after=.*"))
        assert "until=2025-01-31" in page.url  # the filter stays with the pages
    row = page.locator("main table tbody tr").first
    assert row.locator("a[href^='/persons/']").count() == 1 and "(" in row.locator("td").nth(4).inner_text()
    # the row names the person and the list entry (list)
    row.locator("a[href^='/alerts/']").click()
    page.wait_for_url(re.compile(r".*/alerts/[0-9a-f-]+$"))
    taken = page.url.rsplit("/", 1)[1]
    page.click('button[value="take"]')
    page.wait_for_selector("#reviews >> text=demo-analista")
    page.goto(f"{demo.base}/alerts")
    page.select_option("#q-holder", "mine")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*holder=mine.*"))
    mine = page.eval_on_selector_all("main table tbody a[href^='/alerts/']", "links => links.map(a => a.href)")
    assert any(href.endswith(taken) for href in mine)
    accessible(page, "alerts-queue-mine")


def test_a_flight_with_two_thousand_candidates_is_searched_by_name(demo, page, tmp_path):
    """2,000 Nicaraguans registered by bulk import; the flight page pages them and finds one by name."""
    import csv
    from datetime import date, timedelta

    from tests.live import cli_env, run_cli

    source = tmp_path / "nicaragua.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "station", "occurred_at", "given_names", "surnames", "sex", "birth_date", "nationality"])
        for n in range(2000):
            born = f"{1960 + n % 40}-0{1 + n % 9}-1{n % 9}"
            writer.writerow([uuid.uuid4(), "ERM-SAN-VICENTE", "2026-11-20T10:00:00-05:00", f"Persona{n}",
                             f"Viajera{n % 97}", "FM"[n % 2], born, "NIC"])  # fmt: skip
        writer.writerow([uuid.uuid4(), "ERM-SAN-VICENTE", "2026-11-21T10:00:00-05:00", "Dayana", "Quintero Salas", "F",
                         "1994-05-06", "NIC"])  # fmt: skip
    done = run_cli(cli_env(demo.database_url, tmp_path), "import", "encounters", str(source), "--quiet")
    assert done.returncode == 0, done.stderr

    sign_in(page, demo, "demo-programas")
    page.click("nav >> text=Vuelos")
    page.fill("#departs_on", (date.today() + timedelta(days=10)).isoformat())
    page.fill("#destination", "NIC")
    page.fill("#capacity", "120")
    page.fill("#operator", "Servicio Nacional Aeronaval")
    page.click("#create-flight")
    page.wait_for_url(re.compile(r".*/flights/[0-9a-f-]+$"))
    assert page.locator("#eligible tbody tr").count() == 50  # a page, not 2,001 rows
    assert page.locator("a[rel=next]").count() == 1
    accessible(page, "flight-2000-candidates")
    page.fill("#q", "quintero")
    page.click("form[role=search] button")
    page.wait_for_url(re.compile(r".*q=quintero.*"))
    rows = page.locator("#eligible tbody tr")
    assert rows.count() == 1 and "Dayana Quintero Salas" in rows.first.inner_text()
    accessible(page, "flight-search-by-name")


@pytest.mark.parametrize("username", ROLES)
def test_every_page_in_a_roles_menu_is_accessible_in_both_languages(demo, page, username):
    sign_in(page, demo, username)
    links = page.eval_on_selector_all("nav a", "links => links.map(a => a.getAttribute('href'))")
    assert links and len(links) == len(set(links))
    for language in ("es", "en"):
        page.goto(f"{demo.base}/lang/{language}?next=/")
        for href in links:
            response = page.goto(f"{demo.base}{href}")
            assert response.status == 200, f"{username} {href}: {response.status}"
            assert page.locator("html").get_attribute("lang") == language
            accessible(page, f"menu-{username}-{language}-{href.strip('/').replace('/', '-') or 'home'}", shot=False)


def test_the_accessibility_check_fails_a_page_that_has_a_violation(page):
    """The check above can fail: a form field with no label and an image with no text are serious for axe."""
    page.set_content('<html lang="es"><body><main><img src="data:,"><input id="x"></main></body></html>')
    with pytest.raises(AssertionError, match=r"image-alt|label"):
        accessible(page, "axe-self-check", shot=False)


def test_the_language_check_fails_raw_codes_and_the_other_language(page):
    """The words check above can fail: a raw code, and an English sentence on a Spanish page (and the reverse);
    what is marked as data (translate="no") and code are left alone."""
    from tests.web.conftest import in_its_language

    def check(lang: str, body: str) -> None:
        page.set_content(f'<html lang="{lang}"><body><main>{body}</main></body></html>')
        in_its_language(page, "words-self-check")

    check("es", '<p>Alerta abierta</p><p translate="no">Department of Homeland Security</p><code>auth.login</code>')
    with pytest.raises(AssertionError, match="raw code"):
        check("es", "<p>Tipo: child_protection</p>")
    with pytest.raises(AssertionError, match="raw code"):
        check("es", "<td>auth.login</td>")
    with pytest.raises(AssertionError, match="not in es"):
        check("es", "<p>The file is larger than 8 MB</p>")
    with pytest.raises(AssertionError, match="not in en"):
        check("en", "<p>El archivo pesa más de 8 MB para que</p>")
