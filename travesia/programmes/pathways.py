"""Legal pathways' eligibility, pure: a programme's rules are data (nationalities, registration dates, ages, family
ties in the destination), each rule is checked on its own and reported, and a person is eligible when all are met.
The rule names and the fields a partner may receive are fixed vocabularies, so a rules file cannot ask for more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from travesia.enrolment.codes import country_code

EXPORTABLE = (
    "person_id",
    "given_names",
    "surnames",
    "sex",
    "birth_date",
    "nationality",
    "document",
    "phone",
    "family_ties",
    "referred_at",
)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nationalities: list[str] = Field(default_factory=list, description="Empty: any nationality.")
    registered_from: date | None = None
    registered_until: date | None = None
    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)
    family_tie_in: list[str] = Field(default_factory=list, description="A declared close relative in one of these.")

    @field_validator("nationalities", "family_tie_in")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        return [country_code(v) for v in values]

    @model_validator(mode="after")
    def _ranges(self) -> Rules:
        if self.registered_from and self.registered_until and self.registered_until < self.registered_from:
            raise ValueError("registered_until is before registered_from")
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            raise ValueError("max_age is below min_age")
        return self


class ProgrammeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z0-9_\-]{2,40}$")
    name: str = Field(min_length=2, max_length=200)
    partner: str = Field(min_length=2, max_length=200)
    agreement: str = Field(min_length=2, max_length=200, description="The data-sharing agreement and legal basis.")
    rules: Rules
    export_fields: list[str] = Field(min_length=1)
    active: bool = True

    @field_validator("export_fields")
    @classmethod
    def _exportable(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - set(EXPORTABLE))
        if unknown:
            raise ValueError(f"not an exportable field: {', '.join(unknown)} (allowed: {', '.join(EXPORTABLE)})")
        return values


@dataclass(frozen=True)
class Facts:
    nationality: str | None
    age: int
    first_registered: date
    family_ties: tuple[str, ...]  # countries where the person declares a close relative


@dataclass(frozen=True)
class Check:
    rule: str
    met: bool
    detail: str


def evaluate(rules: Rules, facts: Facts) -> list[Check]:
    checks = []
    if rules.nationalities:
        checks.append(Check("nationality", facts.nationality in rules.nationalities, str(facts.nationality)))
    if rules.registered_from:
        checks.append(
            Check("registered_from", facts.first_registered >= rules.registered_from, str(facts.first_registered))
        )
    if rules.registered_until:
        checks.append(
            Check("registered_until", facts.first_registered <= rules.registered_until, str(facts.first_registered))
        )
    if rules.min_age is not None:
        checks.append(Check("min_age", facts.age >= rules.min_age, str(facts.age)))
    if rules.max_age is not None:
        checks.append(Check("max_age", facts.age <= rules.max_age, str(facts.age)))
    if rules.family_tie_in:
        tied = sorted(set(facts.family_ties) & set(rules.family_tie_in))
        checks.append(Check("family_tie_in", bool(tied), ",".join(tied) or "none declared"))
    return checks


def eligible(checks: list[Check]) -> bool:
    return all(c.met for c in checks)
