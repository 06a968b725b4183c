"""The README's promises stay true: its configuration table names every setting, and the two commands exist."""

from pathlib import Path

from travesia.core.settings import settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [variable for variable, _, _ in settings_table() if f"`{variable}`" not in readme]
    assert missing == []


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
