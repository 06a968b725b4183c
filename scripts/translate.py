"""Fill Spanish translations into the catalogue: `python scripts/translate.py FILE.json` where FILE maps msgid to
Spanish text. Used after `make messages`; the i18n test fails while any message lacks Spanish."""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / "travesia" / "locales" / "es" / "LC_MESSAGES" / "messages.po"


def main() -> None:
    translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="es")
    for msgid, text in translations.items():
        message = catalog.get(msgid)
        if message is None:
            sys.exit(f"not in the catalogue: {msgid!r}")
        message.string = text
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalog, width=110, omit_header=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{len(translations)} translated; {len(missing)} still missing")


if __name__ == "__main__":
    main()
