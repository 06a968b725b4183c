"""The registration officer's page: enrol one person or a whole family in one form, then a receipt."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from travesia.enrolment import lookup, rules, service, staging
from travesia.enrolment.images import CleanImage, ImageProblem, clean_fingerprint, clean_image, displayable
from travesia.enrolment.mrz import MrzFormatError, parse
from travesia.enrolment.schemas import (
    CHILD_STATUS_LABELS,
    EXEMPTION_LABELS,
    FINGER_CODES,
    FINGER_LABELS,
    RELATION_LABELS,
    SLAP_LABELS,
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
        "slaps": SLAP_LABELS,
        "image_names": {**FINGER_LABELS, **SLAP_LABELS},
        "officer_reasons": OFFICER_REASONS,
        "exemption_labels": EXEMPTION_LABELS,
        "capture_age": rules.FINGER_CAPTURE_AGE,
    }


def _page(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    refused: list[dict[str, Any]] | None = None,
) -> Response:
    context = {"values": values, "errors": errors or {}, "refused": refused or [], **_form_context()}
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
    translate = gettext_for(request.state.locale)
    result: dict[str, Any] = {}
    if text.strip():
        try:
            zone = parse(text)
            result = {"zone": zone.as_dict(), "problems": [p.translated(translate) for p in zone.problems]}
        except MrzFormatError as error:
            result = {"problems": [p.translated(translate) for p in error.problems]}
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


@dataclass(frozen=True)
class Attached:
    """An image accepted on the form: new in this submission, or staged when the form last came back (its id)."""

    image: CleanImage
    staged_id: uuid.UUID | None = None


IMAGE_FIELDS = ["photo", *(f"fingerprint_{n}" for n in FINGER_CODES)]


async def _images(
    member: dict[str, Any],
    index: int,
    errors: dict[str, str],
    kept: Callable[[str], Attached | None],
    translate: Callable[..., str],
) -> dict[str, Attached]:
    """The member's photo and fingerprints by field name ("photo", "fingerprint_N"), decoded and cleaned; a bad file
    is an error on its own field. A field with no new file takes the image staged for it when the form last came
    back (``kept`` reads the officer's own staged image by id)."""
    accepted: dict[str, Attached] = {}
    for name in IMAGE_FIELDS:
        upload = member.get(name)
        if isinstance(upload, UploadFile) and upload.filename:
            try:
                raw = await upload.read()
                accepted[name] = Attached(clean_image(raw) if name == "photo" else clean_fingerprint(raw))
            except ImageProblem as problem:
                errors[f"m{index}_{name}"] = translate(problem.message, **problem.params)
        elif (staged_id := str(member.get(f"{name}_staged") or "")) and (found := kept(staged_id)) is not None:
            accepted[name] = found
    return accepted


def _split(attached: dict[str, Attached]) -> tuple[CleanImage | None, dict[int, CleanImage]]:
    fingers = {int(name.rsplit("_", 1)[1]): a.image for name, a in attached.items() if name != "photo"}
    photo = attached.get("photo")
    return (photo.image if photo else None), fingers


def _refused_images(errors: dict[str, str], indexes: list[int]) -> list[dict[str, Any]]:
    """The images refused, for the summary at the top of the form: whose, which, and why."""
    return [
        {"member": index + 1, "finger": None if name == "photo" else int(name.rsplit("_", 1)[1]),
         "message": errors[f"m{index}_{name}"]}
        for index in indexes
        for name in IMAGE_FIELDS
        if f"m{index}_{name}" in errors
    ]  # fmt: skip


@router.post("")
async def enrol_submit(request: Request, session: DbSession, principal: Creator) -> Response:
    form = await request.form(
        max_files=MAX_MEMBERS * len(IMAGE_FIELDS), max_fields=MAX_MEMBERS * 32, max_part_size=10 * 1024 * 1024
    )
    translate = gettext_for(request.state.locale)
    keyring = request.app.state.auth.keyring
    members = _members(form)
    kind = str(form.get("group_kind") or "single")
    group_id = str(form.get("group_id") or uuid.uuid4())
    group = {"id": group_id, "kind": kind} if kind in ("family", "travelling") and members else None
    values = {
        "group_id": group_id,
        "group_kind": kind,
        "members": [
            {**{k: v for k, v in m.items() if isinstance(v, str) and not k.endswith("_staged")}, "index": i}
            for i, m in members.items()
        ],
    }

    def kept(staged_id: str) -> Attached | None:
        try:
            image_id = uuid.UUID(staged_id)
        except ValueError:
            return None
        image = staging.staged(session, keyring, principal.user_id, image_id)
        return Attached(image, image_id) if image is not None else None

    errors: dict[str, str] = {}
    captured: list[service.Captured] = []
    attached: dict[int, dict[str, Attached]] = {}
    for index, member in members.items():
        attached[index] = await _images(member, index, errors, kept, translate)
        photo, fingerprints = _split(attached[index])
        if (photo or fingerprints) and not member.get("consent"):
            errors[f"m{index}_biometrics"] = translate(
                N_("Record the person's answer about consent before the images.")
            )
        try:
            data = EncounterIn.model_validate(_payload(member, group))
            item = service.Captured(
                data=data, principal=principal, source="web", photo=photo, fingerprints=fingerprints
            )
            captured.append(service.validate(session, item).captured)  # slaps split once, kept split
        except (ValidationError, DomainError) as error:
            for key, message in field_errors(error, translate).items():
                name = "mrz" if key.startswith("documents.") and key.endswith("mrz") else key.split(".")[0]
                name = "doc_number" if key.startswith("documents.") and name != "mrz" else name
                errors.setdefault(f"m{index}_{name}", message)
    if not members:
        errors["form"] = translate("This field is required.")
    if errors:
        return _sent_back(request, session, principal, values, errors, attached)
    stored = [service.enrol(session, item) for item in captured]
    used = [a.staged_id for images in attached.values() for a in images.values() if a.staged_id]
    staging.discard(session, used)  # type: ignore[arg-type]
    enqueue_after_commit(request, session, "process_due")
    return RedirectResponse(f"/enrol/receipt/{stored[0].encounter.id}", status_code=303)


def _sent_back(
    request: Request,
    session: DbSession,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    attached: dict[int, dict[str, Attached]],
) -> Response:
    """The form again with what was typed and every accepted image staged and shown; the refused ones named."""
    keyring = request.app.state.auth.keyring
    for member in values["members"]:
        index, prefix = member["index"], f"m{member['index']}_"
        member["staged"] = {
            name: a.staged_id or staging.stage(session, keyring, principal.user_id, a.image)
            for name, a in attached.get(index, {}).items()
        }
        # the fingerprint table opens where something needs the officer, or fingerprints are already attached
        member["fingers_open"] = (
            any(k.startswith(prefix + "fingerprint") for k in errors)
            or any(member.get(f"exempt_{n}") for n in FINGER_LABELS)
            or any(name != "photo" for name in member["staged"])
        )
    refused = _refused_images(errors, [m["index"] for m in values["members"]])
    return _page(request, values, errors, status=422, refused=refused)


@router.get("/staged/{image_id}")
def staged_image(request: Request, session: DbSession, principal: Creator, image_id: uuid.UUID) -> Response:
    """The thumbnail of an image kept on a form sent back: the officer's own only (anyone else's reads as missing)."""
    image = staging.staged(session, request.app.state.auth.keyring, principal.user_id, image_id)
    if image is None:
        return Response(status_code=404)
    data, fmt = (displayable(image.data), "png") if image.format == "wsq" else (image.data, image.format)
    return Response(data, media_type=f"image/{fmt}")


@router.get("/receipt/{encounter_id}")
def receipt(request: Request, session: DbSession, principal: Creator, encounter_id: uuid.UUID) -> Response:
    first = lookup.get_encounter(session, principal, encounter_id, purpose="receipt")
    group = lookup.get_group(session, principal, first.group_id, purpose="receipt") if first.group_id else None
    context = {"encounter": first, "group": group, "relations": RELATION_LABELS, "statuses": CHILD_STATUS_LABELS}
    return render(request, "enrolment/receipt.html", context)
