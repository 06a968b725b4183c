"""The OpenAPI document, complete: every schema it references, and every error answer each operation can give.

FastAPI documents the 200 and the 422 of a body it validates itself; the rest comes from what is true of every
route of this application: a guarded route answers 401 without credentials and 403 without the permission; a
route with a path id answers 404 for an id that does not exist or that the caller may not see (the same answer,
so the id's existence is not revealed), and so does a write whose body refers to such a record; a route with a
body answers 400 for a body that cannot be parsed, 413
past its size limit and 422 for invalid fields; a route that writes answers 409 on a conflict with what is stored.
The schemathesis run in the suite (tests/test_api_contract.py) holds the document to the server's answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from travesia.core.guards import Public, guards_of

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                        "required": ["loc", "msg", "type"],
                    },
                },
            ]
        },
        "request_id": {"type": "string"},
    },
    "required": ["detail"],
}

DESCRIPTIONS = {
    "400": "The body could not be parsed (not JSON, or broken multipart).",
    "401": "No valid credentials.",
    "403": "The credentials do not allow this.",
    "404": "No such record (in the path, or one the body refers to), or not one the caller may see.",
    "409": "Conflicts with what is stored (an id reused with other content, a state that no longer allows it).",
    "413": "The body is larger than this address takes.",
    "422": "A field is invalid; each problem names its field.",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def error_codes(route: APIRoute) -> set[str]:
    guards = guards_of(route.dependant)
    codes = set()
    if any(not isinstance(g, Public) for g in guards):
        codes |= {"401", "403"}
    if route.dependant.path_params:
        codes.add("404")
    methods = route.methods or set()
    if methods & UNSAFE:
        codes |= {"400", "404", "409", "413", "422"}  # 404: a record the body refers to does not exist
    if route.dependant.query_params or route.dependant.path_params:
        codes.add("422")
    return codes


def complete_openapi(app: FastAPI, extra_models: list[type[BaseModel]]) -> dict[str, Any]:
    """The document FastAPI makes, with ``extra_models`` (bodies a route reads by hand, such as a multipart's JSON
    part) added to its schemas and the error answers above added to each operation."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in extra_models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)
    schemas["Error"] = ERROR_SCHEMA
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        item = document["paths"].get(context.path_format, {})
        for method in route.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(error_codes(route)):
                entry = responses.setdefault(code, {})
                entry.setdefault("description", DESCRIPTIONS[code])
                if code != "422" or "content" not in entry:
                    entry.setdefault("content", error_ref["content"])
    app.openapi_schema = document
    return document
