"""A VM's snapshots: take, list, read, revert, delete (docs/lifecycle.md, Snapshots)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import PathId
from vmpool.api.schemas import SnapshotCreate, SnapshotList, SnapshotOut
from vmpool.services import snapshots
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/vms/{vm_id}/snapshots",
    tags=["snapshots"],
    responses=ERROR_RESPONSES,
    dependencies=secured,
)


@router.post(
    "",
    operation_id="create_snapshot",
    status_code=201,
    response_model=SnapshotOut,
    responses=responses(404, 409, 502, 503),
)
def create_snapshot(
    vm_id: PathId,
    body: SnapshotCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> SnapshotOut:
    """An internal snapshot of the VM's qcow2 disks: with its memory if it runs (a revert
    resumes it where it was), of its disks only if it is stopped. It claims room on the
    VM's storage (its disks' size, plus its memory) and one of the project's snapshots."""
    view = snapshots.create_snapshot(
        ctx, vm_id, body.name, body.description, body.include_memory, principal.name
    )
    return SnapshotOut.model_validate(view)


@router.get(
    "",
    operation_id="list_snapshots",
    response_model=SnapshotList,
    responses=responses(404),
)
def list_snapshots(vm_id: PathId, ctx: ServiceContext = Scoped) -> SnapshotList:
    return SnapshotList(
        items=[SnapshotOut.model_validate(s) for s in snapshots.list_snapshots(ctx, vm_id)]
    )


@router.get(
    "/{snapshot_id}",
    operation_id="get_snapshot",
    response_model=SnapshotOut,
    responses=responses(404),
)
def get_snapshot(vm_id: PathId, snapshot_id: PathId, ctx: ServiceContext = Scoped) -> SnapshotOut:
    return SnapshotOut.model_validate(snapshots.get_snapshot(ctx, vm_id, snapshot_id))


@router.post(
    "/{snapshot_id}/revert",
    operation_id="revert_snapshot",
    response_model=SnapshotOut,
    responses=responses(404, 409, 502, 503),
)
def revert_snapshot(
    vm_id: PathId,
    snapshot_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> SnapshotOut:
    """Put the VM back to the snapshot: running where it was if the snapshot holds its
    memory; its disks as they were, and stopped, if it holds its disks only. What the VM
    wrote since is lost."""
    view = snapshots.revert_snapshot(ctx, vm_id, snapshot_id, principal.name)
    return SnapshotOut.model_validate(view)


@router.delete(
    "/{snapshot_id}",
    operation_id="delete_snapshot",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409, 502, 503),
)
def delete_snapshot(
    vm_id: PathId,
    snapshot_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Delete the snapshot (the VM keeps running as it is) and free its claim."""
    snapshots.delete_snapshot(ctx, vm_id, snapshot_id, principal.name)
    return Response(status_code=204)
