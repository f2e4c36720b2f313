"""Who calls, and whether they may: bearer tokens checked against the policy table
(`api.policy`), as one dependency every router but health's carries."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vmpool.api.policy import Access, access_of
from vmpool.errors import Forbidden, Unauthorized
from vmpool.services.tokens import Principal, Role, authenticate
from vmpool.services.unit_of_work import ServiceContext

_bearer = HTTPBearer(auto_error=False, description="`vmpool token create --role admin`")


def service_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def authorize(
    request: Request,
    ctx: ServiceContext = Depends(service_context),
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    """The route's access (the policy table) against the caller's token and role: 401 for no,
    a malformed, an unknown, an expired or a revoked token; 403 for a role that may not."""
    route = request.scope.get("route")
    access = access_of(request.method, getattr(route, "path", ""))
    if access is Access.PUBLIC:
        return
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    principal = await run_in_threadpool(authenticate, ctx, creds.credentials)
    request.state.principal = principal
    if access is Access.ADMIN and not principal.is_admin:
        raise Forbidden("this needs the admin role")
    if access is Access.WRITE and principal.role is Role.READER:
        raise Forbidden("this needs the member or admin role")


def caller(request: Request) -> Principal:
    """The authenticated caller (after `authorize`)."""
    principal: Principal = request.state.principal
    return principal


def project_context(request: Request) -> ServiceContext:
    """The service context as the caller may see it: an admin's sees every project, a
    member's or reader's its own project only (another's rows are as if they did not
    exist: 404)."""
    ctx: ServiceContext = request.app.state.ctx
    principal: Principal = request.state.principal
    return ctx.in_project(None if principal.is_admin else principal.project_id)


secured = [Depends(authorize)]  # every router but health's
Caller = Depends(caller)
Scoped = Depends(project_context)
