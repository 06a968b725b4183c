"""The safe-conduct pass as a PDF: photo, name, document, validity, route, destination, and the signed QR."""

from __future__ import annotations

import io
import uuid

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import pdf
from travesia.core.errors import N_, NotFound
from travesia.core.principal import Principal
from travesia.models import BiometricSample, Document
from travesia.protection import repository


def _face(session: Session, encounter_id: uuid.UUID) -> bytes | None:
    stmt = select(BiometricSample.image).where(
        BiometricSample.encounter_id == encounter_id, BiometricSample.modality == "face"
    )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def _document(session: Session, encounter_id: uuid.UUID) -> str:
    doc = session.execute(select(Document).where(Document.encounter_id == encounter_id).limit(1)).scalar_one_or_none()
    return f"{doc.doc_type} {doc.number} ({doc.issuing_state or '-'})" if doc else "none presented"


def pass_pdf(session: Session, principal: Principal, pass_id: uuid.UUID) -> bytes:
    row = repository.pass_(session, pass_id)
    if row is None:
        raise NotFound(N_("No such pass."), field="pass_id")
    encounter = repository.latest_names(session, [row.person_id]).get(row.person_id)
    if encounter is None:
        raise NotFound(N_("No such person."), field="person_id")
    audit.record(session, principal, "protection.pass_print", record_type="person", record_id=row.person_id,
                 details={"pass": str(pass_id)})  # fmt: skip
    doc = pdf.document(f"Safe-conduct pass {row.id}")
    doc.set_font("helvetica", "B", 16)
    doc.cell(0, 10, "SALVOCONDUCTO / SAFE-CONDUCT PASS", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=9)
    doc.cell(0, 5, pdf.latin(f"No. {row.id}"), new_x="LMARGIN", new_y="NEXT")
    top = doc.get_y() + 3
    photo = _face(session, row.encounter_id)
    if photo:
        doc.image(io.BytesIO(photo), x=10, y=top, w=35)
    else:
        doc.rect(10, top, 35, 45)
        doc.text(14, top + 24, "no photo")
    doc.set_xy(50, top)
    lines = [
        ("Name / Nombre", f"{encounter.given_names} {encounter.surnames}"),
        ("Born / Nacimiento", str(encounter.birth_year)),
        ("Nationality / Nacionalidad", encounter.nationality or "-"),
        ("Document / Documento", _document(session, encounter.id)),
        ("Valid / Válido", f"{row.valid_from.isoformat()} - {row.valid_until.isoformat()}"),
        ("Route / Ruta", " > ".join(row.route) or "-"),
        ("Destination / Destino", row.destination),
    ]
    for label, value in lines:
        doc.set_x(50)
        doc.set_font("helvetica", "B", 9)
        doc.cell(45, 6, pdf.latin(label))
        doc.set_font("helvetica", size=10)
        doc.cell(0, 6, pdf.latin(value)[:70], new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(row.token, error="m").save(qr, kind="png", scale=6, border=4)
    qr.seek(0)
    doc.image(qr, x=10, y=max(doc.get_y(), top + 50) + 4, w=70)
    doc.set_y(max(doc.get_y(), top + 50) + 78)
    doc.set_font("helvetica", size=8)
    note = (
        f"Signed with key {row.key_id}. Verify offline: travesia verify-pass, or the /verify-pass page, "
        "with the authority's public key and its signed revocation list."
    )
    doc.multi_cell(0, 4, pdf.latin(note))
    return pdf.output(doc)
