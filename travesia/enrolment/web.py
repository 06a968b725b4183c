"""The registration officer's page: enrol one person or a whole family in one form, then a receipt."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from travesia.core.errors import N_, DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, enqueue_after_commit, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.enrolment import lookup, rules, service
from travesia.enrolment.images import CleanImage, ImageProblem, clean_fingerprint, clean_image
from travesia.enrolment.mrz import MrzFormatError, parse
from travesia.enrolment.schemas import (
    CHILD_STATUS_LABELS,
    EXEMPTION_LABELS,
    FINGER_LABELS,
    RELATION_LABELS,
    EncounterIn,
)

router = APIRouter(prefix="/enrol", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Creator = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_CREATE))]
FIELDS = (
    "id",
    "relation",
    "given_names",
    "surnames",
    "sex",
    "birth_date",
    "birth_estimated",
    "nationality",
    "languages",
    "doc_type",
    "doc_number",
    "mrz",
)
MEMBER_KEY = re.compile(r"^m(\d{1,2})_(\w+)$")
FINGER_FIELD = re.compile(r"^fingerprint_(\d{1,2})$")
OFFICER_REASONS = [r for r in EXEMPTION_LABELS if r not in ("under_capture_age", "refused")]  # those the rules derive
MAX_MEMBERS = 20
MAX_FORM = 96 * 1024 * 1024  # a family's form with every photo and fingerprint (each image is also checked alone)
COMMON_NATIONALITIES = ["VEN", "ECU", "HTI", "COL", "CHN", "CUB", "IND", "PER", "CHL", "BRA", "AFG", "CMR", "SOM"]


def _blank_member(index: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "relation": "head" if index == 0 else "child", "sex": "", "index": index}


def _form_context() -> dict[str, Any]:
    return {
        "nationalities": COMMON_NATIONALITIES,
        "fingers": FINGER_LABELS,
        "officer_reasons": OFFICER_REASONS,
        "exemption_labels": EXEMPTION_LABELS,
        "capture_age": rules.FINGER_CAPTURE_AGE,
    }


def _page(
    request: Request, values: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    context = {"values": values, "errors": errors or {}, **_form_context()}
    return render(request, "enrolment/enrol.html", context, status_code=status)


@router.get("")
def enrol_page(request: Request, _: Creator) -> Response:
    return _page(request, {"group_id": str(uuid.uuid4()), "group_kind": "single", "members": [_blank_member(0)]})


@router.get("/member")
def member_fragment(request: Request, _: Creator, member_count: int = 1) -> Response:
    """One more member's fields (HTMX appends it), and the new count (out-of-band swap)."""
    index = max(1, min(member_count, MAX_MEMBERS - 1))
    context = {"m": _blank_member(index), "errors": {}, "next_count": index + 1, **_form_context()}
    return render(request, "enrolment/_member.html", context)


@router.post("/check-mrz")
async def check_mrz(request: Request, _: Creator) -> Response:
    """Instant feedback while typing a zone: the fields it holds, or the line and field that fail."""
    form = await request.form()
    text = next((str(v) for k, v in form.items() if k.endswith("_mrz")), "")
    result: dict[str, Any] = {}
    if text.strip():
        try:
            zone = parse(text)
            result = {"zone": zone.as_dict(), "problems": [str(p) for p in zone.problems]}
        except MrzFormatError as error:
            result = {"problems": [str(p) for p in error.problems]}
    return render(request, "enrolment/_mrz_feedback.html", result)


def _members(form: FormData) -> dict[int, dict[str, Any]]:
    members: dict[int, dict[str, Any]] = {}
    for key, value in form.multi_items():
        match = MEMBER_KEY.match(key)
        if match and int(match.group(1)) < MAX_MEMBERS:
            members.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return dict(sorted(members.items()))


def _payload(values: dict[str, Any], group: dict[str, Any] | None) -> dict[str, Any]:
    text = {k: str(values.get(k) or "").strip() for k in FIELDS}
    payload: dict[str, Any] = {
        "id": text["id"],
        "given_names": text["given_names"],
        "surnames": text["surnames"],
        "sex": text["sex"],
        "birth_date": text["birth_date"],
        "birth_estimated": bool(values.get("birth_estimated")),
        "languages": [p.strip() for p in re.split(r"[,;\s]+", text["languages"]) if p.strip()],
    }
    if text["nationality"]:
        payload["nationality"] = text["nationality"].upper()
    if text["doc_number"] or text["mrz"]:
        doc = {"number": text["doc_number"] or None, "mrz": text["mrz"] or None, "doc_type": text["doc_type"] or None}
        payload["documents"] = [{k: v for k, v in doc.items() if v}]
    if group:
        payload["group"] = {**group, "relation": text["relation"] or "companion"}
    biometrics = _biometrics(values)
    if biometrics:
        payload["biometrics"] = biometrics
    return payload


def _biometrics(values: dict[str, Any]) -> dict[str, Any] | None:
    """Consent and exemptions as the form records them; None when the officer recorded neither."""
    exemptions: list[dict[str, Any]] = []
    for name, modality, position in [("exempt_face", "face", None), ("exempt_fingers", "finger", None)] + [
        (f"exempt_{n}", "finger", n) for n in FINGER_LABELS
    ]:
        reason = str(values.get(name) or "")
        if reason:
            exemptions.append({"modality": modality, "finger_position": position, "reason": reason})
    consent = str(values.get("consent") or "")
    if not consent and not exemptions:
        return None
    return {"consent": consent or None, "exemptions": exemptions}


async def _images(
    member: dict[str, Any], index: int, errors: dict[str, str]
) -> tuple[CleanImage | None, dict[int, CleanImage]]:
    """The member's photo and fingerprints, decoded and cleaned; a bad file is an error on its own field."""
    photo, fingerprints = None, {}
    for name, upload in member.items():
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        finger = FINGER_FIELD.match(name)
        if name != "photo" and not (finger and int(finger.group(1)) in FINGER_LABELS):
            continue
        try:
            if finger:
                fingerprints[int(finger.group(1))] = clean_fingerprint(await upload.read())
            else:
                photo = clean_image(await upload.read())
        except ImageProblem as problem:
            errors[f"m{index}_{name}"] = str(problem)
    return photo, fingerprints


@router.post("")
async def enrol_submit(request: Request, session: DbSession, principal: Creator) -> Response:
    form = await request.form(max_files=MAX_MEMBERS * 11, max_fields=MAX_MEMBERS * 32, max_part_size=10 * 1024 * 1024)
    translate = gettext_for(request.state.locale)
    members = _members(form)
    kind = str(form.get("group_kind") or "single")
    group_id = str(form.get("group_id") or uuid.uuid4())
    group = {"id": group_id, "kind": kind} if kind in ("family", "travelling") and members else None
    values = {
        "group_id": group_id,
        "group_kind": kind,
        "members": [
            {**{k: v for k, v in m.items() if not isinstance(v, UploadFile)}, "index": i} for i, m in members.items()
        ],
    }
    errors: dict[str, str] = {}
    captured: list[service.Captured] = []
    for index, member in members.items():
        photo, fingerprints = await _images(member, index, errors)
        if (photo or fingerprints) and not member.get("consent"):
            errors[f"m{index}_biometrics"] = translate(
                N_("Record the person's answer about consent before the images.")
            )
        try:
            data = EncounterIn.model_validate(_payload(member, group))
            item = service.Captured(
                data=data, principal=principal, source="web", photo=photo, fingerprints=fingerprints
            )
            service.validate(session, item)
            captured.append(item)
        except (ValidationError, DomainError) as error:
            for key, message in field_errors(error, translate).items():
                name = "mrz" if key.startswith("documents.") and key.endswith("mrz") else key.split(".")[0]
                name = "doc_number" if key.startswith("documents.") and name != "mrz" else name
                errors.setdefault(f"m{index}_{name}", message)
    if not members:
        errors["form"] = translate("This field is required.")
    if errors:
        for member in values["members"]:  # the fingerprint table opens where something needs the officer
            prefix = f"m{member['index']}_"
            member["fingers_open"] = any(k.startswith(prefix + "fingerprint") for k in errors) or any(
                member.get(f"exempt_{n}") for n in FINGER_LABELS
            )
        return _page(request, values, errors, status=422)
    stored = [service.enrol(session, item) for item in captured]
    enqueue_after_commit(request, session, "process_due")
    return RedirectResponse(f"/enrol/receipt/{stored[0].encounter.id}", status_code=303)


@router.get("/receipt/{encounter_id}")
def receipt(request: Request, session: DbSession, principal: Creator, encounter_id: uuid.UUID) -> Response:
    first = lookup.get_encounter(session, principal, encounter_id, purpose="receipt")
    group = lookup.get_group(session, principal, first.group_id, purpose="receipt") if first.group_id else None
    context = {"encounter": first, "group": group, "relations": RELATION_LABELS, "statuses": CHILD_STATUS_LABELS}
    return render(request, "enrolment/receipt.html", context)
