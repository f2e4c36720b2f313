"""A VM's data disks: add (hot-plug on a running VM), list, read, grow, remove."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import PathId
from vmpool.api.preconditions import ETAG_OK, Conditional, with_etag
from vmpool.api.redact import for_caller
from vmpool.api.schemas import DiskCreate, DiskList, DiskOut, DiskResize
from vmpool.services import disks
from vmpool.services.preconditions import IfMatch
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/vms/{vm_id}/disks", tags=["disks"], responses=ERROR_RESPONSES, dependencies=secured
)


@router.post(
    "",
    operation_id="add_disk",
    status_code=201,
    response_model=DiskOut,
    responses=responses(404, 409, 502, 503),
)
def add_disk(
    vm_id: PathId,
    body: DiskCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> DiskOut:
    """A new blank data disk, attached as the next free virtio disk (vdb, vdc, ...): live if
    the VM runs, in its definition if it is stopped. Its size is claimed on the VM's host
    (local) or needs a host that mounts the shared folder (shared)."""
    view = disks.add_disk(ctx, vm_id, body.size_gib, body.storage, principal.name)
    return for_caller(DiskOut.model_validate(view), principal)


@router.get(
    "",
    operation_id="list_disks",
    response_model=DiskList,
    responses=responses(404),
)
def list_disks(
    vm_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> DiskList:
    items = disks.list_disks(ctx, vm_id)
    return DiskList(items=[for_caller(DiskOut.model_validate(d), principal) for d in items])


@router.get(
    "/{disk_id}",
    operation_id="get_disk",
    response_model=DiskOut,
    responses=responses(404) | ETAG_OK,
)
def get_disk(
    vm_id: PathId, disk_id: PathId, response: Response, ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> DiskOut:  # fmt: skip
    view = disks.get_disk(ctx, vm_id, disk_id)
    with_etag(response, view)
    return for_caller(DiskOut.model_validate(view), principal)


@router.patch(
    "/{disk_id}",
    operation_id="resize_disk",
    response_model=DiskOut,
    responses=responses(404, 409, 412, 502, 503) | ETAG_OK,
)
def resize_disk(
    vm_id: PathId,
    disk_id: PathId,
    body: DiskResize,
    response: Response,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
    if_match: IfMatch | None = Conditional,
) -> DiskOut:
    """Grow the disk, online if the VM runs (the guest sees the new size at once). A smaller
    size is refused: data past the new end would be lost. With If-Match, only if the disk's
    ETag still matches (else 412)."""
    view = disks.resize_disk(ctx, vm_id, disk_id, body.size_gib, principal.name, if_match)
    with_etag(response, view)
    return for_caller(DiskOut.model_validate(view), principal)


@router.delete(
    "/{disk_id}",
    operation_id="remove_disk",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409, 502, 503),
)
def remove_disk(
    vm_id: PathId,
    disk_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Detach the disk (the guest must release it) and delete its volume."""
    disks.remove_disk(ctx, vm_id, disk_id, principal.name)
    return Response(status_code=204)
