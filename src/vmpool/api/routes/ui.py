"""The dashboard (`/ui`, docs/operations.md): a read-only page for a browser.

A browser cannot send a bearer header when it navigates, so the page itself (`GET /ui`)
holds no data and needs no token: it is a login form and a script. The script keeps the
token in the tab's sessionStorage and fetches the dashboard's HTML fragment
(`GET /ui/fragments/dashboard`) with `Authorization: Bearer <token>` every few seconds, so
the fragment goes through the same authorization as the API (the policy table: any valid
token) and the same project scoping (a project's token sees its own VMs and their
migrations, without hosts). No cookie is set, so no other site can make the browser send
the token (no CSRF), and the token is never in a URL, so never in an access log.

The pages are left out of the OpenAPI document (they are not API); their access is in the
policy table like every route's. Every answer forbids framing and inline scripts (CSP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.ui_format import FILTERS, GLOBALS
from vmpool.errors import NotFound
from vmpool.services import dashboard
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

UI_DIR = Path(__file__).resolve().parents[1] / "ui"
REFRESH_S = 5

router = APIRouter(tags=["ui"], dependencies=secured, include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(UI_DIR / "templates"), autoescape=True, trim_blocks=True,
    lstrip_blocks=True,
)  # fmt: skip
_env.filters.update(FILTERS)
_env.globals.update(GLOBALS)
templates = Jinja2Templates(env=_env)

# The page's own files, by name (nothing else is served from the folder).
STATIC = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, headers=SECURITY_HEADERS)
    assert isinstance(response, HTMLResponse)
    return response


@router.get("/ui", response_class=HTMLResponse)
def dashboard_page(request: Request) -> HTMLResponse:
    """The page: a login form and the script that fetches the dashboard (no data, no token)."""
    return _render(request, "dashboard.html", {"refresh_s": REFRESH_S})


@router.get("/ui/fragments/dashboard", response_class=HTMLResponse)
def dashboard_fragment(
    request: Request, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> HTMLResponse:
    """The dashboard's content as an HTML fragment, as the caller may see it (any token)."""
    view = dashboard.dashboard(ctx, with_hosts=principal.is_admin)
    return _render(request, "_dashboard.html", {"d": view, "caller": principal})


@router.get("/ui/static/{name}")
def dashboard_static(name: str) -> Response:
    """The page's script and style sheet."""
    media_type = STATIC.get(name)
    if media_type is None:
        raise NotFound("no such file")
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response((UI_DIR / "static" / name).read_bytes(), media_type=media_type,
                    headers=headers)  # fmt: skip
