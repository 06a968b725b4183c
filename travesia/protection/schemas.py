"""What the protection API takes and gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from travesia.core.errors import N_, RuleProblem
from travesia.models.vocabulary import CaseKind, FlagKind, RecordedFlag, ReferralKind
from travesia.models.vocabulary import DecidedClaimState as ClaimState
from travesia.protection.rules import INDICATORS, WG_ANSWERS, WG_DOMAINS

WgAnswer = Literal["no_difficulty", "some_difficulty", "a_lot_of_difficulty", "cannot_do"]
assert set(WG_ANSWERS) == set(WgAnswer.__args__)  # one list of answers

# What the pages show for the codes stored (the codes stay in the database, the API and the audit trail).
FLAG_LABELS = {
    "unaccompanied_child": N_("unaccompanied child"),
    "separated_child": N_("separated child"),
    "older_person_alone": N_("older person travelling alone"),
    "pregnancy": N_("pregnancy"),
    "disability": N_("disability"),
    "serious_medical": N_("serious medical condition"),
    "survivor_of_violence": N_("survivor of violence"),
}
FLAG_SOURCE_LABELS = {"derived": N_("derived at registration"), "recorded": N_("recorded by an officer")}
CLAIM_STATE_LABELS = {
    "intention": N_("intention to seek asylum"),
    "pending": N_("claim pending"),
    "granted": N_("granted"),
    "refused": N_("refused (open to appeal)"),
    "appeal": N_("on appeal"),
    "final_refusal": N_("final refusal"),
    "withdrawn": N_("withdrawn"),
}
REFERRAL_KIND_LABELS = {
    "trafficking": N_("trafficking victim assistance"),
    "refugee_authority": N_("refugee authority"),
    "child_protection": N_("child protection"),
    "medical": N_("medical care"),
    "psychosocial": N_("psychosocial support"),
    "legal": N_("legal aid"),
    "shelter": N_("shelter"),
}
REFERRAL_STATE_LABELS = {"open": N_("open"), "accepted": N_("accepted"), "closed": N_("closed")}
CASE_KIND_LABELS = {
    "child_protection": N_("child protection"),
    "trafficking": N_("trafficking"),
    "gender_based_violence": N_("gender-based violence"),
    "medical": N_("medical"),
    "general": N_("general"),
}
CASE_STATE_LABELS = {"open": N_("case open"), "closed": N_("case closed")}
CONSENT_LABELS = {"given": N_("given"), "refused": N_("refused"), "not_able": N_("not able to consent")}
HOLD_LABELS = {
    "flag": N_("vulnerability: %(what)s"),
    "claim": N_("asylum: %(what)s"),
    "referral": N_("open referral: %(what)s"),
    "screening": N_("trafficking screening advises a referral"),
    "case": N_("open protection case: %(what)s"),
    "family_member_held": N_("travels with %(what)s protected family member(s)"),
    "on_another_flight": N_("already on another flight"),
}
_HOLD_DETAILS = {"flag": FLAG_LABELS, "claim": CLAIM_STATE_LABELS, "referral": REFERRAL_KIND_LABELS,
                 "case": CASE_KIND_LABELS}  # fmt: skip


def hold_text(code: str, gettext: Callable[[str], str]) -> str:
    """A hold reason code ('claim:pending', 'family_member_held:2') in the reader's language; an unknown code as is."""
    prefix, _, detail = code.partition(":")
    template = HOLD_LABELS.get(prefix)
    if template is None:
        return code
    what = _HOLD_DETAILS.get(prefix, {}).get(detail)
    return gettext(template) % {"what": gettext(what) if what else detail}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FlagIn(Strict):
    kind: RecordedFlag
    encounter_id: uuid.UUID | None = None
    washington_group: dict[str, WgAnswer] | None = Field(
        None, description=f"For 'disability': an answer for each of {', '.join(WG_DOMAINS)}."
    )
    note: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _wg_for_disability(self) -> FlagIn:
        if self.kind == "disability" and not self.washington_group:
            raise RuleProblem(N_("Record disability with the Washington Group short set (washington_group)."))
        if self.kind != "disability" and self.washington_group:
            raise RuleProblem(N_("The Washington Group answers belong to a 'disability' flag."))
        return self


class CloseIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class FlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    source: str
    details: dict[str, object]
    recorded_at: datetime
    closed_at: datetime | None
    close_reason: str | None


class ScreeningIn(Strict):
    answers: dict[str, bool] = Field(description=f"Indicators present (true) or absent: {', '.join(INDICATORS)}")


class ScreeningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    outcome: str
    reasons: list[str]
    at: datetime


class IntentionIn(Strict):
    note: str | None = Field(None, max_length=500)


class ClaimUpdateIn(Strict):
    state: ClaimState
    on: date = Field(description="When the authority decided or the step happened.")
    authority: str | None = Field(None, max_length=120)
    authority_ref: str | None = Field(None, max_length=60)


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    state: str
    authority: str | None
    authority_ref: str | None
    history: list[dict[str, object]]
    recorded_at: datetime


class ReferralIn(Strict):
    kind: ReferralKind
    partner: str = Field(min_length=1, max_length=120)
    consent: Literal["given", "refused", "not_able"]
    case_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _consent(self) -> ReferralIn:
        if self.consent == "refused":
            raise RuleProblem(N_("The person refused: a referral is not made without consent."))
        return self


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    partner: str
    consent: str
    state: str
    opened_at: datetime
    closed_at: datetime | None


class CaseIn(Strict):
    kind: CaseKind
    assigned_to: uuid.UUID | None = None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    state: str
    assigned_to_id: uuid.UUID | None
    opened_at: datetime
    closed_at: datetime | None


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=10_000)
    visibility: Literal["protection", "assigned"] = "protection"


class FollowUpIn(Strict):
    due_on: date
    what: str = Field(min_length=1, max_length=300)


class HoldsOut(BaseModel):
    person_id: uuid.UUID
    holds: list[str]


class CaseQueueFilter(BaseModel):
    """What the protection queue shows: my cases, every open case, or the intake (flagged, no case yet); every
    filter optional; ``after`` is the keyset cursor of the last row of the previous page."""

    model_config = ConfigDict(extra="forbid")

    view: Literal["mine", "all", "intake"] | None = None  # None: mine when the officer holds any case, else all
    kind: CaseKind | None = None
    flag: FlagKind | None = None
    overdue: bool = False
    after: str | None = Field(None, max_length=120, pattern=r"^[0-9T:.+\-]+~[0-9T:.+\-]+~[0-9a-f-]{36}$")
    limit: int = Field(50, ge=1, le=200)
