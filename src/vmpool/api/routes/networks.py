"""Networks (admin) and a VM's NICs (hot-plug on a running VM)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, Limit, PathId, next_after
from vmpool.api.redact import for_caller
from vmpool.api.schemas import NetworkCreate, NetworkList, NetworkOut, NicCreate, NicList, NicOut
from vmpool.services import networks, nics
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(tags=["networks"], responses=ERROR_RESPONSES, dependencies=secured)


@router.post(
    "/v1/networks",
    operation_id="create_network",
    status_code=201,
    response_model=NetworkOut,
    responses=responses(409),
)
def create_network(
    body: NetworkCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> NetworkOut:
    """A pool-wide network. Kind bridge: a Linux bridge by name, offered by the hosts that
    have it. Kind libvirt: a libvirt network vmpool defines on every host. Each reachable
    host is asked at once (then at every sync); `hosts` says which offer it."""
    cmd = networks.CreateNetwork(**body.model_dump())  # the kind's own fields
    return NetworkOut.model_validate(networks.create_network(ctx, cmd, principal.name))


@router.get(
    "/v1/networks",
    operation_id="list_networks",
    response_model=NetworkList,
)
def list_networks(
    after: AfterCursor = 0, limit: Limit = 100, ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> NetworkList:  # fmt: skip
    found = networks.list_networks(ctx, after, limit)
    return NetworkList(
        items=[for_caller(NetworkOut.model_validate(n), principal) for n in found],
        next_after=next_after([n.id for n in found], limit),
    )


@router.get(
    "/v1/networks/{network_id}",
    operation_id="get_network",
    response_model=NetworkOut,
    responses=responses(404),
)
def get_network(
    network_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> NetworkOut:
    return for_caller(NetworkOut.model_validate(networks.get_network(ctx, network_id)), principal)


@router.delete(
    "/v1/networks/{network_id}",
    operation_id="delete_network",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_network(
    network_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Refused (409) while NICs use it."""
    networks.delete_network(ctx, network_id, principal.name)
    return Response(status_code=204)


@router.post(
    "/v1/vms/{vm_id}/nics",
    operation_id="add_nic",
    status_code=201,
    response_model=NicOut,
    responses=responses(404, 409, 502, 503),
)
def add_nic(
    vm_id: PathId,
    body: NicCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> NicOut:
    """A new NIC: live if the VM runs, in its definition if it is stopped. The VM's host must
    offer the network (409 naming the network filter otherwise)."""
    request = nics.NicRequest(body.network, body.mac, body.ipv4, body.ipv6, body.model)
    return NicOut.model_validate(nics.add_nic(ctx, vm_id, request, principal.name))


@router.get(
    "/v1/vms/{vm_id}/nics",
    operation_id="list_nics",
    response_model=NicList,
    responses=responses(404),
)
def list_nics(vm_id: PathId, ctx: ServiceContext = Scoped) -> NicList:
    return NicList(items=[NicOut.model_validate(n) for n in nics.list_nics(ctx, vm_id)])


@router.get(
    "/v1/vms/{vm_id}/nics/{nic_id}",
    operation_id="get_nic",
    response_model=NicOut,
    responses=responses(404),
)
def get_nic(vm_id: PathId, nic_id: PathId, ctx: ServiceContext = Scoped) -> NicOut:
    return NicOut.model_validate(nics.get_nic(ctx, vm_id, nic_id))


@router.delete(
    "/v1/vms/{vm_id}/nics/{nic_id}",
    operation_id="remove_nic",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409, 502, 503),
)
def remove_nic(
    vm_id: PathId,
    nic_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Detach the NIC (the guest must let go of it); its MAC and addresses are free again."""
    nics.remove_nic(ctx, vm_id, nic_id, principal.name)
    return Response(status_code=204)
