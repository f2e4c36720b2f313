"""Every request gets an id (the client's `X-Request-ID` if it is a plain token, else a new
one), returned in the response's `X-Request-ID` header and written on every audit event the
request causes. Every mutating call (POST, PATCH, PUT, DELETE) is recorded in the audit
trail with its actor, project, route, target and outcome (the status), refused ones too,
before the answer is sent. Every request, once answered, is one line of the `vmpool.access`
log: its id, method, route template, path, status and duration (vmpool/logs.py)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmpool.errors import DatabaseUnavailable
from vmpool.services import audit
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)
access_log = logging.getLogger("vmpool.access")

HEADER = b"x-request-id"
_GIVEN = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
MUTATING = {"POST", "PATCH", "PUT", "DELETE"}


class RequestAudit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope.get("headers", [])).get(HEADER, b"")
        request_id = given.decode() if _GIVEN.fullmatch(given) else uuid.uuid4().hex
        status = 500
        recorded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *[(k, v) for k, v in message["headers"] if k.lower() != HEADER],
                    (HEADER, request_id.encode()),
                ]
                # Recorded before the client has its answer: a daemon that dies right
                # after answering must not leave an acknowledged call out of the trail.
                # (A database that fails here fails the answer's status too: it is sent
                # as it is, and the failure logged.)
                recorded = True
                if scope.get("method") in MUTATING:
                    try:
                        await _record(scope, status)
                    except DatabaseUnavailable:
                        log.log(logging.WARNING if status < 500 else logging.DEBUG,
                                "the call %s %s (%s) could not be audited: the database is away",
                                scope.get("method"), scope.get("path"), status)  # fmt: skip
                    except Exception:
                        log.exception("the audit event of request %s was not recorded", request_id)
            await send(message)

        token = audit.current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                if scope.get("method") in MUTATING and not recorded:
                    await _record(scope, status)  # no answer was started (it failed first)
            except DatabaseUnavailable:  # the answer is sent; a refused call (503) is no news
                log.log(logging.WARNING if status < 500 else logging.DEBUG,
                        "the call %s %s (%s) could not be audited: the database is away",
                        scope.get("method"), scope.get("path"), status)  # fmt: skip
            finally:
                _log_access(scope, request_id, status, time.perf_counter() - started)
                audit.current_request_id.reset(token)


def _log_access(scope: Scope, request_id: str, status: int, seconds: float) -> None:
    """The request's line: `route` is the path template (`/v1/vms/{vm_id}`), null when no
    route matched."""
    method = scope.get("method", "")
    route = getattr(scope.get("route"), "path", None)
    duration_ms = round(seconds * 1000, 3)
    access_log.info(
        "%s %s %s %.1f ms request=%s", method, route or scope.get("path", ""), status,
        duration_ms, request_id,
        extra={"request_id": request_id, "method": method, "route": route,
               "path": scope.get("path", ""), "status": status, "duration_ms": duration_ms},
    )  # fmt: skip


async def _record(scope: Scope, status: int) -> None:
    app: Any = scope.get("app")
    ctx: ServiceContext | None = getattr(getattr(app, "state", None), "ctx", None)
    if ctx is None:
        return
    principal = scope.get("state", {}).get("principal")
    route = scope.get("route")
    await run_in_threadpool(
        audit.record_call,
        ctx,
        actor=principal.name if principal is not None else "anonymous",
        project_id=principal.project_id if principal is not None else None,
        action=f"{scope['method']} {getattr(route, 'path', '(no route)')}",
        target=str(scope.get("path", ""))[:255],
        outcome=status,
    )
