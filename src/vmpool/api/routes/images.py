"""The image catalog. An upload is the request body itself (`application/octet-stream`),
streamed to the image store as it arrives, never held in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, Limit, PathId, next_after
from vmpool.api.redact import for_caller
from vmpool.api.schemas import ImageList, ImageOut
from vmpool.domain.images import DiskFormat
from vmpool.domain.names import NAME_PATTERN
from vmpool.errors import InvalidInput
from vmpool.services import images
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/images", tags=["images"], responses=ERROR_RESPONSES, dependencies=secured
)

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class _FromLoop(Iterator[bytes]):
    """The request's body chunks, for the service running on a worker thread."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def _next(self) -> bytes:
        return await self._chunks.__anext__()

    def __next__(self) -> bytes:
        while True:
            try:
                chunk: bytes = anyio.from_thread.run(self._next)
            except StopAsyncIteration:
                raise StopIteration from None
            if chunk:
                return chunk


@router.post(
    "",
    operation_id="upload_image",
    status_code=201,
    response_model=ImageOut,
    responses=responses(409),
    openapi_extra=_BINARY_BODY,
)
async def upload_image(
    request: Request,
    name: Annotated[str, Query(max_length=63, pattern=NAME_PATTERN)],
    format: Annotated[
        DiskFormat | None, Query(description="raw or qcow2; detected once when absent")
    ] = None,
    sha256: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{64}$", description="refused if the bytes differ")
    ] = None,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> ImageOut:
    """Upload a raw or qcow2 image as the request body. It must stand alone (no backing
    file, no external data file, not encrypted) and be at most `max_image_bytes`; its
    format is pinned from then on. A failed or interrupted upload leaves nothing."""
    chunks = _FromLoop(request.stream())
    try:
        view = await run_in_threadpool(
            images.upload_image, ctx, name, format, sha256, chunks, principal.name
        )
    except ClientDisconnect:  # the upload is undone; nobody is left to answer
        raise InvalidInput("the client went away during the upload") from None
    return ImageOut.model_validate(view)


@router.get("", operation_id="list_images", response_model=ImageList)
def list_images(
    after: AfterCursor = 0, limit: Limit = 100, ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> ImageList:  # fmt: skip
    found = images.list_images(ctx, after, limit)
    return ImageList(
        items=[for_caller(ImageOut.model_validate(i), principal) for i in found],
        next_after=next_after([i.id for i in found], limit),
    )


@router.get(
    "/{image_id}",
    operation_id="get_image",
    response_model=ImageOut,
    responses=responses(404),
)
def get_image(
    image_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> ImageOut:
    return for_caller(ImageOut.model_validate(images.get_image(ctx, image_id)), principal)


@router.delete(
    "/{image_id}",
    operation_id="delete_image",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_image(
    image_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Refused (409) while a VM's boot disk is made from it."""
    images.delete_image(ctx, image_id, principal.name)
    return Response(status_code=204)
