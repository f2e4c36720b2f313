"""Bearer-token authorization, as a FastAPI dependency."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vmpool.errors import Forbidden, Unauthorized
from vmpool.services.tokens import Principal, Role, authenticate
from vmpool.services.unit_of_work import ServiceContext

_bearer = HTTPBearer(auto_error=False, description="`vmpool token create --role admin`")


def service_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def require(role: Role) -> Callable[..., object]:
    async def dependency(
        ctx: ServiceContext = Depends(service_context),
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Principal:
        if creds is None or creds.scheme.lower() != "bearer":
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        principal = await run_in_threadpool(authenticate, ctx, creds.credentials)
        if role is Role.ADMIN and principal.role is not Role.ADMIN:
            raise Forbidden(f"this needs the {role.value} role")
        return principal

    return dependency


read_access = Depends(require(Role.READER))
admin_access = Depends(require(Role.ADMIN))
# For routes that record who acted: `principal: Principal = admin_principal`.
admin_principal = Depends(require(Role.ADMIN))
