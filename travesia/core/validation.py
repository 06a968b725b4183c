"""Field-level error messages for pages: from a DomainError or a Pydantic ValidationError to
{field path: message in the reader's language}."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from travesia.core.errors import N_, DomainError

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
}


def api_errors(errors: Sequence[Any], translate: Callable[..., str]) -> list[dict[str, object]]:
    """Pydantic's errors for an API answer: where and what kind, a message in the reader's language, and neither
    the input nor the context (which may quote it)."""
    result = []
    for item in errors:
        msgid = PYDANTIC_MESSAGES.get(item.get("type", ""))
        message = translate(msgid) if msgid else str(item.get("msg", ""))
        result.append({"loc": list(item.get("loc", ())), "msg": message, "type": item.get("type", "invalid")})
    return result


def field_path(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "form"


def field_errors(error: Exception, translate: Callable[..., str]) -> dict[str, str]:
    if isinstance(error, DomainError):
        return {error.field or "form": translate(error.message, **error.params)}
    if isinstance(error, ValidationError):
        result: dict[str, str] = {}
        for item in error.errors():
            key = field_path(tuple(item["loc"]))
            msgid = PYDANTIC_MESSAGES.get(item["type"])
            result.setdefault(key, translate(msgid) if msgid else item["msg"])
        return result
    raise TypeError(f"not a validation error: {type(error).__name__}")
