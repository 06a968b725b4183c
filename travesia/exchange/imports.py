"""A partner's ANSI/NIST-ITL file imported under an agreement: persons as watchlist entries of the partner's list,
their agreed faces and fingers as templates that screen new and earlier registrations."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

import pycountry
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import received as bio_received
from travesia.biometrics import service as biometrics
from travesia.core.errors import N_, InvalidInput
from travesia.core.principal import Principal
from travesia.exchange import nist, service
from travesia.exchange.records import PersonRecord, fields_present
from travesia.screening import listing
from travesia.screening import reads as screening_reads


# -- imports -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    persons: int
    faces: int
    fingers: int
    ignored_fields: list[str]
    report: listing.ImportReport
    templates: int = 0  # made from the images, for biometric screening (with ``bio``)


def import_nist(
    session: Session,
    principal: Principal,
    agreement_name: str,
    list_name: str,
    data: bytes,
    *,
    file_name: str,
    mode: str = "full",
    bio: biometrics.Biometrics | None = None,
) -> ImportResult:
    """A partner's NIST file into a watchlist, taking only what the agreement names (the rest is reported). With
    ``bio``, the agreed faces and fingers become the entries' templates, so registrations are screened against them
    biometrically too; the models run before anything is written (on SQLite, before the write lock is taken)."""
    agreement = service.agreement_named(session, agreement_name)
    terms = service.allowed_terms(agreement, "import", None)
    try:
        transaction = nist.decode(data)
    except nist.NistProblem as problem:
        raise InvalidInput(
            N_("The file was refused, nothing was imported: %(problem)s"), field=problem.where, problem=problem.problem
        ) from None
    ignored = sorted(fields_present(transaction.persons) - terms.fields)
    records = service.shared(transaction.persons, terms)
    extracted = {_entity_id(r, transaction.agency): _extract_images(r, bio) for r in records} if bio is not None else {}
    lines = [json.dumps(_entity(r, transaction.agency), ensure_ascii=False) for r in records]
    report = listing.import_list(
        session,
        principal,
        list_name,
        lines,
        file_name=file_name,
        format_name="ftm",
        source=f"{agreement.partner} ({transaction.agency})",
        mode=mode,
    )
    templates = _entry_templates(session, bio, list_name, report, extracted) if bio is not None else 0
    faces = sum(r.face is not None for r in records)
    fingers = sum(len(r.fingers) for r in records)
    audit.record(
        session,
        principal,
        "exchange.import",
        record_type="watchlist",
        record_id=report.version_id,
        details={
            "agreement": agreement.name,
            "persons": len(records),
            "faces": faces,
            "fingers": fingers,
            "templates": templates,
            "ignored_fields": ignored,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    return ImportResult(len(records), faces, fingers, ignored, report, templates)


def _extract_images(r: PersonRecord, bio: biometrics.Biometrics) -> list[biometrics.Extracted]:
    """Templates of a record's face and fingers; an unusable image is a result (no template), not a refusal."""
    captures = [biometrics.Capture(uuid.uuid4(), "face", None, r.face.data)] if r.face else []
    captures += [biometrics.Capture(uuid.uuid4(), "finger", p, i.data) for p, i in sorted(r.fingers.items())]
    return [biometrics.extract(c, bio.face_model) for c in captures]


def _entry_templates(
    session: Session,
    bio: biometrics.Biometrics,
    list_name: str,
    report: listing.ImportReport,
    extracted: dict[str, list[biometrics.Extracted]],
) -> int:
    """Each imported entry's templates in place of what it had; entries this version removed lose theirs."""
    wl = screening_reads.watchlist_by_name(session, list_name)
    assert wl is not None  # import_list just wrote a version of it
    live = screening_reads.live_entries(session, wl.id)
    by_entry = {live[key].id: items for key, items in extracted.items() if key in live}
    changed = screening_reads.entries_changed_since(session, wl.id, report.version - 1)
    gone = [e.id for e in changed if e.removed_version is not None]
    return bio_received.store_watchlist_templates(session, bio, by_entry, gone)


GENDER = {"M": "male", "F": "female", "X": "other"}


def _entity(r: PersonRecord, agency: str) -> dict[str, object]:
    """FollowTheMoney Person for the watchlist (countries as FtM's alpha-2 codes)."""
    props: dict[str, list[str]] = {}
    if r.surnames:
        props["name"] = [" ".join(p for p in (r.given_names, r.surnames) if p)]
        props["lastName"] = [r.surnames]
        if r.given_names:
            props["firstName"] = [r.given_names]
    if r.birth_date:
        props["birthDate"] = [r.birth_date]
    if r.sex in GENDER:
        props["gender"] = [GENDER[r.sex]]
    for prop, code in (("nationality", r.nationality), ("birthPlace", r.country_of_birth)):
        country = pycountry.countries.get(alpha_3=code) if code else None
        if country is not None:
            props[prop] = [country.alpha_2.lower()] if prop == "nationality" else [country.name]
    for doc in r.documents:
        props.setdefault("passportNumber" if doc.doc_type == "passport" else "idNumber", []).append(doc.number)
    return {"id": _entity_id(r, agency), "schema": "Person", "properties": props}


def _entity_id(r: PersonRecord, agency: str) -> str:
    return f"{agency}:{r.ref}"
