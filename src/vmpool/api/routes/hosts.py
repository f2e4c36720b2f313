from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, IdFilter, Limit, NameFilter, PathId, next_after
from vmpool.api.preconditions import ETAG_OK, Conditional, with_etag
from vmpool.api.schemas import (
    HostCreate,
    HostDeviceList,
    HostDeviceOut,
    HostDeviceUpdate,
    HostList,
    HostOut,
    HostUpdate,
    LoadOut,
)
from vmpool.services import ha, hosts, maintenance, metrics, passthrough
from vmpool.services.preconditions import IfMatch
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/hosts", tags=["hosts"], responses=ERROR_RESPONSES, dependencies=secured
)


@router.post(
    "",
    operation_id="register_host",
    status_code=201,
    response_model=HostOut,
    responses=responses(404, 409, 503),
)
def register_host(
    body: HostCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> HostOut:
    """Register a hypervisor by libvirt URI; vmpool connects and reads its inventory."""
    view = hosts.register_host(
        ctx, body.uri, body.name, body.pool_id, principal.name, body.migration_address,
        body.peer_uri,
    )  # fmt: skip
    return HostOut.model_validate(view)


@router.get("", operation_id="list_hosts", response_model=HostList)
def list_hosts(
    pool_id: IdFilter = None, name: NameFilter = None, after: AfterCursor = 0,
    limit: Limit = 100, ctx: ServiceContext = Scoped,
) -> HostList:  # fmt: skip
    found = hosts.list_hosts(ctx, pool_id, after, limit, name)
    return HostList(
        items=[HostOut.model_validate(v) for v in found],
        next_after=next_after([h.id for h in found], limit),
    )


@router.get(
    "/{host_id}",
    operation_id="get_host",
    response_model=HostOut,
    responses=responses(404) | ETAG_OK,
)
def get_host(host_id: PathId, response: Response, ctx: ServiceContext = Scoped) -> HostOut:
    view = hosts.get_host(ctx, host_id)
    with_etag(response, view)
    return HostOut.model_validate(view)


@router.delete(
    "/{host_id}",
    operation_id="delete_host",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_host(
    host_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Forget a host. Refused while it holds VMs or takes part in a migration in flight; its
    migration history stays, naming it."""
    hosts.delete_host(ctx, host_id, actor=principal.name)
    return Response(status_code=204)


@router.patch(
    "/{host_id}",
    operation_id="update_host",
    response_model=HostOut,
    responses=responses(404, 412) | ETAG_OK,
)
def update_host(
    host_id: PathId,
    body: HostUpdate,
    response: Response,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
    if_match: IfMatch | None = Conditional,
) -> HostOut:
    """Per-host ratio and reservation overrides (null clears one) and operator-set traits.
    With If-Match, only if the host's ETag still matches (else 412)."""
    changes = body.model_dump(exclude_unset=True)
    view = hosts.update_host(ctx, host_id, changes, principal.name, if_match)
    with_etag(response, view)
    return HostOut.model_validate(view)


@router.post(
    "/{host_id}/maintenance",
    operation_id="enter_host_maintenance",
    status_code=202,
    response_model=HostOut,
    responses=responses(404),
)
def enter_maintenance(
    host_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> HostOut:
    """Stop placing onto the host and evacuate its running VMs by live migration, a few at a
    time. Follow `evacuation` on the host: a VM that cannot move is reported with its reason."""
    return HostOut.model_validate(maintenance.enter_maintenance(ctx, host_id, principal.name))


@router.delete(
    "/{host_id}/maintenance",
    operation_id="leave_host_maintenance",
    response_model=HostOut,
    responses=responses(404, 409),
)
def leave_maintenance(
    host_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> HostOut:
    """Make the host placeable again; queued evacuations are cancelled."""
    return HostOut.model_validate(maintenance.leave_maintenance(ctx, host_id, principal.name))


@router.post(
    "/{host_id}/fence",
    operation_id="fence_host",
    response_model=HostOut,
    responses=responses(404, 409),
)
def fence_host(
    host_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> HostOut:
    """Confirm that an unreachable host is off (powered down, unplugged): its `ha` VMs that
    ran are started on other hosts, its other VMs are stopped. 409 for a host that answers.
    Confirming a host that still runs its VMs is the one thing that could run a VM twice;
    the hosts' lock manager (virtlockd) refuses the second copy even then."""
    return HostOut.model_validate(ha.fence_host(ctx, host_id, principal.name))


@router.get(
    "/{host_id}/metrics",
    operation_id="get_host_metrics",
    response_model=LoadOut,
    responses=responses(404),
)
def get_host_metrics(host_id: PathId, ctx: ServiceContext = Scoped) -> LoadOut:
    """Measured load: the last sample and the smoothed CPU utilisation."""
    return LoadOut.model_validate(metrics.load_of(ctx, "host", host_id, ctx.metrics_window_s))


@router.get(
    "/{host_id}/devices",
    operation_id="list_host_devices",
    response_model=HostDeviceList,
    responses=responses(404),
)
def list_host_devices(host_id: PathId, ctx: ServiceContext = Scoped) -> HostDeviceList:
    """The host's PCI devices as its libvirt lists them (node device API; bridges left out),
    with the alias that makes each assignable and the VM holding it."""
    found = passthrough.list_devices(ctx, host_id)
    return HostDeviceList(items=[HostDeviceOut.model_validate(d) for d in found])


@router.patch(
    "/{host_id}/devices/{address}",
    operation_id="update_host_device",
    response_model=HostDeviceOut,
    responses=responses(404, 409),
)
def update_host_device(
    host_id: PathId,
    address: Annotated[str, Path(max_length=16, description="0000:3b:00.0")],
    body: HostDeviceUpdate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> HostDeviceOut:
    """Make a PCI device assignable under an alias (VMs ask `devices: [{"alias", "count"}]`),
    or no longer (null). 409 while a VM holds it."""
    view = passthrough.set_alias(ctx, host_id, address, body.alias, principal.name)
    return HostDeviceOut.model_validate(view)
