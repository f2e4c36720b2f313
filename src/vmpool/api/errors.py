"""One error body for every 4xx/5xx, and no stack trace to clients."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vmpool.api.schemas import ErrorBody, ErrorDetail
from vmpool.errors import VmpoolError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    retry_after_s: int | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details or {}))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def vmpool_error_response(exc: VmpoolError) -> JSONResponse:
    """A vmpool error's answer: its status and code, and when to try again if it says."""
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.retry_after_s)


def _clean_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        item: dict[str, Any] = {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        out.append(item)  # the offending input is left out: it may be huge or hostile
    return out[:20]


def _allowed_methods(req: Request) -> list[str]:
    """The methods the OpenAPI document gives the request's path (Starlette names only those
    of the first route that matches it; FastAPI has a route per method)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        req.app.state, "allowed_methods", None
    )
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"), sorted(ops))
            for path, ops in req.app.openapi()["paths"].items()
        ]
        req.app.state.allowed_methods = table
    path = req.url.path
    return sorted({m.upper() for pattern, ops in table if pattern.match(path) for m in ops})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VmpoolError)
    async def _vmpool(_req: Request, exc: VmpoolError) -> JSONResponse:
        return vmpool_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        if errors and all(e["loc"][:1] == ["path"] for e in errors):
            # A path id that is not a number, or beyond any id's range, names nothing.
            return error_response(404, "not_found", "no such resource")
        return error_response(422, "invalid_input", "the request is invalid", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(req)):
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", "internal error; see the vmpool log")


# What any route can answer: a body that is not UTF-8 JSON, no or a bad token, a role that
# may not act, an oversized body, invalid parameters, the database away.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "malformed request body or header"},
    401: {"model": ErrorBody, "description": "missing or invalid bearer token"},
    403: {"model": ErrorBody, "description": "the token's role may not do this"},
    413: {"model": ErrorBody, "description": "request body over 64 KiB"},
    422: {"model": ErrorBody, "description": "invalid input"},
    503: {
        "model": ErrorBody,
        "description": "database_unavailable: the database cannot be reached right now "
        "(temporary; try again after Retry-After)",
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        404: "no such resource",
        409: "conflict: no capacity, a name already taken, or a state that forbids the action",
        412: "If-Match does not match the resource's ETag: it changed; nothing was done",
        502: "the hypervisor failed the operation",
        503: "the host or the database cannot be reached right now (temporary; retry later)",
    }
    out = dict(ERROR_RESPONSES)
    for s in statuses:
        out[s] = {"model": ErrorBody, "description": descriptions[s]}
    return out
