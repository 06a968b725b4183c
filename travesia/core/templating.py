"""Server-rendered pages: one Jinja2 environment, autoescaped, with the caller's language, CSRF token and
navigation in every template's context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from travesia.core.errors import N_
from travesia.core.http import CSRF_FIELD, csrf_token
from travesia.core.i18n import country_name, gettext_for
from travesia.core.principal import ROLE_LABELS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def page_context(request: Request) -> dict[str, Any]:
    locale = getattr(request.state, "locale", "es")
    principal = getattr(request.state, "principal", None)
    nav = request.app.state.nav(principal) if principal is not None else []
    training = getattr(request.app.state, "training", False)
    if training and principal is not None:
        nav = [*nav, ("/training", N_("Training"))]
    return {
        "training": training,
        "country": lambda code: country_name(code, locale),
        "request": request,
        "_": gettext_for(locale),
        "locale": locale,
        "principal": principal,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "nav": nav,
        "path": request.url.path,
        "role_labels": ROLE_LABELS,
    }


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    full = page_context(request)
    full.update(context or {})
    return templates.TemplateResponse(request, name, full, status_code=status_code)
