"""The public release: within its stated privacy budget (OpenDP's own privacy map), no small cell published, noise
really added and of the expected size, and the files written."""

import csv
import subprocess
from collections import Counter

import pytest

from travesia.core.principal import cli_principal
from travesia.statistics import release, repository, service


def big_table():
    return {"t": (["k"], Counter({(f"c{i:03d}",): 500 + i for i in range(300)}))}


def test_the_release_stays_within_its_budget():
    tables = {**big_table(), "u": (["k"], Counter({("a",): 40})), "v": (["k"], Counter({("b",): 3}))}
    made = release.release(tables, epsilon=0.9, threshold=10)
    assert made.spent == pytest.approx(0.9) and all(t.epsilon == pytest.approx(0.3) for t in made.tables)
    with pytest.raises(ValueError, match="epsilon"):
        release.release(tables, epsilon=0)


def test_noise_is_added_and_of_the_expected_size():
    made = release.release(big_table(), epsilon=1.0, threshold=10)
    truth = {f"c{i:03d}": 500 + i for i in range(300)}
    errors = [abs(row[1] - truth[row[0]]) for row in made.tables[0].rows]
    assert sum(e != 0 for e in errors) > 120  # about 54 % of cells move at scale 1: noisy, not a copy
    mean_error = sum(errors) / len(errors)
    assert 0.5 < mean_error < 1.3  # discrete Laplace at scale 1: mean |noise| = 2e⁻¹/(1-e⁻²) ≈ 0.85


def test_small_cells_are_never_published():
    counts = Counter({(f"c{i}",): i for i in range(0, 40)})
    made = release.release({"t": (["k"], counts)}, epsilon=1.0, threshold=10)
    for _, value in made.tables[0].rows:
        assert value == "<10" or (isinstance(value, int) and value >= 10)
    assert any(value == "<10" for _, value in made.tables[0].rows)


def test_release_files_from_the_database(db, session, tmp_path):
    from tests.conftest import import_population

    bodies, _ = import_population(db, tmp_path / "pop", 300, seed=4)
    people = repository.first_registrations(session)
    # before identity resolution every registration is its own person: one row each, as registered
    assert Counter((y, st) for y, _, _, _, st in people) == Counter(
        (int(b["occurred_at"][:4]), b["station"]) for b in bodies
    )
    made = service.public_release(session, cli_principal("t"), epsilon=1.0, threshold=5)
    written = service.write_release(made, tmp_path / "release")
    assert {p.name for p in written} == {
        "persons_by_year_nationality.csv", "persons_by_year_sex_age.csv", "persons_by_year_station.csv", "release.pdf",
    }  # fmt: skip
    with (tmp_path / "release" / "persons_by_year_station.csv").open() as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["year", "station", "persons"]
    assert all(v == "<5" or int(v) >= 5 for *_, v in table[1:])
    text = subprocess.run(["pdftotext", str(tmp_path / "release" / "release.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "epsilon = 1" in text and "persons by year station" in text


def test_travesia_stats_writes_the_release(fresh_database_url, tmp_path):
    from tests.live import cli_env, run_cli
    from travesia.synth.population import write

    env = cli_env(fresh_database_url, tmp_path / "data")
    assert run_cli(env, "db", "upgrade").returncode == 0
    for code in ("BAJO-CHIQUITO", "CANAAN-MEMBRILLO", "ERM-LAJAS-BLANCAS", "ERM-SAN-VICENTE", "ERM-LOS-PLANES"):
        assert run_cli(env, "stations", "add", code, "--name", code.title()).returncode == 0
    write(tmp_path / "pop", 100, seed=2)
    assert run_cli(env, "import", "encounters", str(tmp_path / "pop" / "encounters.jsonl")).returncode == 0
    done = run_cli(env, "stats", "--release", str(tmp_path / "out"), "--epsilon", "0.5", "--threshold", "5")
    assert done.returncode == 0, done.stderr
    assert "registrations:" in done.stdout and "spent 0.5000" in done.stdout
    assert (tmp_path / "out" / "release.pdf").read_bytes().startswith(b"%PDF")
    bad = run_cli(env, "stats", "--release", str(tmp_path / "out2"), "--epsilon", "0")
    assert bad.returncode != 0 and "epsilon" in (bad.stdout + bad.stderr)
