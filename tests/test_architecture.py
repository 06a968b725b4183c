"""The layers of docs/architecture.md hold: import-linter checks the contracts in pyproject.toml, and refuses a
copy of the code that breaks them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    # import-linter puts its working directory first on sys.path: it analyses the copy in `folder`.
    return subprocess.run([LINT, "--no-cache"], cwd=folder, capture_output=True, text=True, timeout=300)


def contracts() -> int:
    return (ROOT / "pyproject.toml").read_text(encoding="utf-8").count("[[tool.importlinter.contracts]]")


def test_import_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{contracts()} kept, 0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # a route reading another domain's tables through its repository
        ("screening/api.py", "from travesia.enrolment import repository as _r", "Only enrolment reads"),
        # two siblings of one layer
        ("protection/rules.py", "from travesia.network import graph as _g", "siblings (|) never import each other"),
        # a lower layer reaching up
        ("enrolment/rules.py", "from travesia.screening import names as _n", "siblings (|) never import each other"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "travesia", tmp_path / "travesia", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "travesia" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint(tmp_path)
    assert result.returncode != 0
    broken = [text for text in result.stdout.splitlines() if text.endswith(" BROKEN")]
    assert len(broken) == 1 and contract in broken[0], result.stdout
    assert "1 broken" in result.stdout
