"""The `Idempotency-Key` header on POST (services/idempotency.py): the first answer is
kept and replayed for a repeat (with `Idempotent-Replayed: true`). The key belongs to the
caller (a hash of its Authorization header). Streamed uploads (an image) take no key."""

from __future__ import annotations

import hashlib
import logging
import re

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmpool.api.errors import error_response, vmpool_error_response
from vmpool.api.limits import STREAMED
from vmpool.errors import DatabaseUnavailable, VmpoolError
from vmpool.services import idempotency
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
_KEY = re.compile(rb"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


class IdempotencyKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(HEADER)
        ctx: ServiceContext | None = getattr(getattr(scope.get("app"), "state", None), "ctx", None)
        if (
            key is None
            or scope.get("method") != "POST"
            or (scope["method"], scope["path"]) in STREAMED
            or ctx is None
        ):
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(key):
            why = "Idempotency-Key: 1-255 printable ASCII characters without spaces"
            bad = error_response(422, "invalid_input", why, {"field": "Idempotency-Key"})
            await bad(scope, receive, send)
            return
        body = b""
        while True:  # the body is small here: BodySizeLimit bounded it
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        owner = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()
        k = key.decode()
        try:
            stored = await run_in_threadpool(
                idempotency.begin, ctx, owner, k, "POST", str(scope["path"]),
                hashlib.sha256(body).hexdigest(),
            )  # fmt: skip
        except VmpoolError as exc:
            await vmpool_error_response(exc)(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, send)
            return

        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, content_type, chunks = 500, None, []

        async def keep(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, keep)
        finally:
            try:
                await run_in_threadpool(
                    idempotency.finish, ctx, owner, k, status, content_type, b"".join(chunks)
                )
            except DatabaseUnavailable:  # the answer is sent; the key is kept as running
                log.warning("the answer to Idempotency-Key %r could not be kept", k)


async def _replay(stored: idempotency.Stored, send: Send) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if stored.content_type:
        headers.append((b"content-type", stored.content_type.encode()))
    headers.append((b"content-length", str(len(stored.body)).encode()))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
