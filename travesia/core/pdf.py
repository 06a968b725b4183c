"""PDF documents (passes, manifests, reports) with fpdf2, chosen for being pure Python and well kept.

The core fonts cover Latin-1 only; text outside it is written transliterated (anyascii) so that a name in Arabic or
Chinese script prints legibly rather than as boxes. The original script stays in the record and on the pages."""

from __future__ import annotations

from anyascii import anyascii
from fpdf import FPDF


def latin(text: object) -> str:
    """The text as the core fonts can print it: Latin-1 kept (accents included), anything else transliterated."""
    out = []
    for char in str(text):
        out.append(char if ord(char) < 256 else anyascii(char))
    return "".join(out)


def document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_title(latin(title))
    pdf.set_creator("Travesía")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    return pdf


def output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
