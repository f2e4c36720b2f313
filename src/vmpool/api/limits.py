"""The request body, checked before any route sees it: at most 64 KiB, and UTF-8 (an image
upload excepted: it is streamed to its route, which bounds it by `max_image_bytes`).

The body is read here, whether it comes with a Content-Length or chunked, up to the
limit and no further (413 past it), then handed to the app. JSON bodies must be UTF-8
without a byte-order mark (RFC 8259, section 8.1): Python's JSON parser would also
take UTF-16 and UTF-32, which the OpenAPI document does not promise, so they get 400.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmpool.api.errors import error_response

MAX_BODY_BYTES = 64 * 1024
# Bodies that are streamed to their route, which bounds them itself (an image upload).
STREAMED = {("POST", "/v1/images")}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in STREAMED:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get(b"content-type")) and not _is_utf8(body):
            response = error_response(
                400, "malformed_json", "the request body must be JSON encoded as UTF-8 (no BOM)"
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, "too_large", f"request body over {self.max_bytes} bytes")
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return True  # FastAPI parses a body without a content type as JSON
    media = content_type.split(b";")[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _is_utf8(body: bytes) -> bool:
    if body.startswith(_BOMS) or b"\x00" in body:  # NUL: UTF-16/32 without a BOM
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
