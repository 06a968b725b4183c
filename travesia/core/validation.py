"""Field-level error messages for pages: from a DomainError or a Pydantic ValidationError to
{field path: message in the reader's language}."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from travesia.core.errors import N_, DomainError, RuleProblem
from travesia.core.i18n import gettext_for

M = TypeVar("M", bound=BaseModel)

# Pydantic error types that forms meet, as translatable messages (Pydantic's own text is English only).
PYDANTIC_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This is too short."),
    "string_too_long": N_("This is too long."),
    "too_short": N_("Choose at least one."),
    "string_pattern_mismatch": N_("This is not in the expected format."),
    "enum": N_("Choose one of the offered values."),
    "literal_error": N_("Choose one of the offered values."),
    "int_parsing": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "greater_than_equal": N_("This number is too small."),
    "less_than_equal": N_("This number is too large."),
    "extra_forbidden": N_("This field is not expected."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": N_("Enter a date as YYYY-MM-DD."),
    "date_type": N_("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": N_("Enter a date and time with its time zone."),
    "datetime_from_date_parsing": N_("Enter a date and time with its time zone."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "bool_parsing": N_("Choose yes or no."),
    "string_type": N_("Enter text here."),
    "int_type": N_("Enter a whole number."),
}
NOT_VALID = N_("This value is not valid.")


def _message(item: Any, translate: Callable[..., str], fallback: str | None) -> str:
    """One Pydantic error in the reader's language: our validators' RuleProblem (a msgid and its parameters), a
    known error type, or else ``fallback`` (Pydantic's English for the API, a plain "not valid" on pages)."""
    problem = (item.get("ctx") or {}).get("error")
    if isinstance(problem, RuleProblem):
        return translate(problem.message, **problem.params)
    msgid = PYDANTIC_MESSAGES.get(item.get("type", ""))
    if msgid:
        return translate(msgid)
    return fallback if fallback is not None else translate(NOT_VALID)


def api_errors(errors: Sequence[Any], translate: Callable[..., str]) -> list[dict[str, object]]:
    """Pydantic's errors for an API answer: where and what kind, a message in the reader's language, and neither
    the input nor the context (which may quote it)."""
    result = []
    for item in errors:
        message = _message(item, translate, str(item.get("msg", "")))
        result.append({"loc": list(item.get("loc", ())), "msg": message, "type": item.get("type", "invalid")})
    return result


def field_path(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "form"


def field_errors(error: Exception, translate: Callable[..., str]) -> dict[str, str]:
    if isinstance(error, DomainError):
        return {error.field or "form": error.translated(translate)}
    if isinstance(error, ValidationError):
        result: dict[str, str] = {}
        for item in error.errors():
            key = field_path(tuple(item["loc"]))
            result.setdefault(key, _message(item, translate, None))
        return result
    raise TypeError(f"not a validation error: {type(error).__name__}")


def query_filter(request: Request, model: type[M]) -> tuple[M, dict[str, str], dict[str, str]]:
    """A list page's filters from its query string: the model (its defaults where the query is wrong), the values
    given (to keep in the page's links), and the errors in the reader's language by field."""
    raw = {k: v for k, v in request.query_params.items() if k in model.model_fields and v}
    try:
        return model(**raw), raw, {}
    except ValidationError as error:
        return model(), raw, field_errors(error, gettext_for(request.state.locale))
