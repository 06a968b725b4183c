"""Spanish and English are complete: every message the code and templates can show has a translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "_label": None}
METHOD_MAP = [("travesia/**.py", "python"), ("travesia/templates/**.html", "jinja2")]


def extracted() -> set[str]:
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHOD_MAP, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def catalog(locale: str):
    with (ROOT / "travesia" / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_extraction_finds_messages():
    assert len(extracted()) > 100


def test_spanish_translates_every_message():
    spanish = catalog("es")
    missing = sorted(m for m in extracted() if not (spanish.get(m) and spanish.get(m).string))
    assert missing == [], f"untranslated into Spanish (run `make messages`, then translate): {missing}"
    fuzzy = [m.id for m in spanish if m.id and m.fuzzy]
    assert fuzzy == []


def test_english_catalogue_lists_every_message():
    english = catalog("en")
    missing = sorted(m for m in extracted() if english.get(m) is None)
    assert missing == [], f"missing from the English catalogue (run `make messages`): {missing}"


def test_placeholders_survive_translation():
    import re

    for message in catalog("es"):
        if message.id and message.string:
            assert set(re.findall(r"%\(\w+\)s", message.id)) == set(re.findall(r"%\(\w+\)s", message.string)), (
                message.id
            )


def test_countries_are_named_in_the_readers_language():
    from travesia.core.i18n import country_name

    assert country_name("ve", "es") == "Venezuela" and country_name("VEN", "en") == "Venezuela"  # list and MRZ codes
    assert country_name("DEU", "es") == "Alemania" and country_name("DEU", "en") == "Germany"
    assert country_name("HTI", "es") == "Haití"
    assert country_name("UTO", "es") == "UTO" and country_name(None, "es") == ""  # ICAO's specimen state: its code
