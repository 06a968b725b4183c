"""Errors that services raise and the edges (API, pages, CLI) translate and render.

Messages are English msgids marked with ``N_`` so Babel extracts them; the edge translates them into the
caller's language. ``field`` names the input that is wrong, as a dotted path where it is nested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:
    return message


class RuleProblem(ValueError):
    """Raised by pure rule modules: a msgid with its parameters, so the service turns it into an error the edge
    translates (``str()`` is the English text, for logs and pydantic validators)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message  # the msgid; translate it with params at the edge
        self.field = field
        self.params = params
        # A refusal whose record must outlive it (a partner's refused request is still counted and audited): the
        # unit of work commits what the session holds, then the error goes on to the caller (core.db).
        self.keeps_writes = False

    @property
    def kind(self) -> str:
        return type(self).__name__

    def translated(self, translate: Callable[..., str]) -> str:
        """The message in the reader's language (``translate`` fills the parameters); a subclass with a richer
        message (a list of problems, each with its own msgid) overrides it."""
        return translate(self.message, **self.params)


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class TooManyAttempts(DomainError):
    status_code = 429
