"""Training mode: `travesia demo training` makes a separate SQLite database of synthetic people in its own folder
(whatever live database the environment names), every page is marked, and an exercise is done when the trainee did
it: a family registered after the mistyped zone was refused and corrected. A live folder is never served as training,
and a training folder always is."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.conftest import csrf_of, login
from tests.live import cli_env, run_cli
from travesia.app import create_app
from travesia.core.settings import Settings
from travesia.demo import DEMO_PASSWORD
from travesia.training.exercises import BAD_MRZ, GOOD_MRZ, MARKER

pytestmark = pytest.mark.slow  # builds a database by migrations and loads a population


@pytest.fixture(scope="module")
def training_folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("site")
    live = base / "live.db"
    env = cli_env(f"sqlite:///{live}", base)  # the live database the operator's environment names
    made = run_cli(env, "demo", "training", "--people", "40")
    assert made.returncode == 0, made.stderr[-2000:]
    assert "travesia serve --training" in made.stdout
    assert not live.exists()  # nothing was written to the live database
    folder = base / "training"
    assert (folder / MARKER).exists() and (folder / "travesia.db").exists()
    again = run_cli(env, "demo", "training", "--people", "40")  # idempotent: no second flight
    assert again.returncode == 0, again.stderr[-2000:]
    engine = create_engine(f"sqlite:///{folder / 'travesia.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM flights WHERE destination = 'HTI'")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM asylum_claims")).scalar_one() >= 1
    engine.dispose()
    return folder


def trainee(folder) -> TestClient:
    settings = Settings(data_dir=folder, argon2_time_cost=1, argon2_memory_kib=1024)
    return TestClient(create_app(settings), base_url="https://testserver", follow_redirects=False)


def test_every_page_is_marked_and_an_exercise_is_done_by_doing_it(training_folder):
    with trainee(training_folder) as client:
        assert client.app.state.training is True
        login_page = client.get("/login").text
        assert 'id="training-banner"' in login_page and "<title>[FORMACIÓN]" in login_page
        assert login(client, "demo-registro", DEMO_PASSWORD).status_code == 303
        exercises = client.get("/training")
        assert exercises.status_code == 200 and 'id="training-banner"' in exercises.text
        assert 'id="exercise-family_bad_mrz"' in exercises.text and 'data-done="no"' in exercises.text
        assert 'href="/training"' in client.get("/").text  # in the menu
        page = client.get("/enrol").text
        ids = dict(re.findall(r'name="(m0_id|group_id)" value="([^"]+)"', page))
        son = re.search(r'name="m1_id" value="([^"]+)"', client.get("/enrol/member", params={"member_count": 1}).text)
        form = {
            "csrf_token": csrf_of(client, "/enrol"), "group_id": ids["group_id"], "group_kind": "family",
            "m0_id": ids["m0_id"], "m0_relation": "head", "m0_given_names": "Wideline", "m0_surnames": "Joseph",
            "m0_sex": "F", "m0_birth_date": "1992-03-14", "m0_nationality": "HTI", "m0_mrz": BAD_MRZ,
            "m1_id": son.group(1), "m1_relation": "child", "m1_given_names": "Jean", "m1_surnames": "Joseph",
            "m1_sex": "M", "m1_birth_date": "2018", "m1_nationality": "HTI",
        }  # fmt: skip
        refused = client.post("/enrol", data=form)
        assert refused.status_code == 422 and "Línea 2, número de documento" in refused.text
        assert client.post("/enrol", data={**form, "m0_mrz": GOOD_MRZ}).status_code == 303
        done = client.get("/training").text
        assert re.search(r'id="exercise-family_bad_mrz"[^>]*data-done="yes"', done)


def test_live_data_is_never_served_as_training(tmp_path, training_folder):
    with pytest.raises(RuntimeError, match="not a training folder"):
        create_app(Settings(data_dir=tmp_path, training=True))
    live = TestClient(create_app(Settings(data_dir=tmp_path)), base_url="https://testserver")
    assert live.app.state.training is False
    assert 'id="training-banner"' not in live.get("/login").text
    assert trainee(training_folder).app.state.training is True  # the folder decides, not a forgotten flag
