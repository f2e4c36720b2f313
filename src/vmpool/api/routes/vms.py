from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, IdFilter, NameFilter, PathId
from vmpool.api.redact import for_caller
from vmpool.api.schemas import (
    LeaseRenew,
    LoadOut,
    MigrateIn,
    MigrationOut,
    VmCreate,
    VmOut,
    VmPage,
    VmResize,
)
from vmpool.domain.hardware import CpuPolicy, DeviceRequest, HardwareRequest
from vmpool.domain.seed import FirstBoot
from vmpool.domain.vm import VmState
from vmpool.errors import Forbidden
from vmpool.services import leases, metrics, migrations, nics, vm_actions, vm_resize, vms
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(prefix="/v1/vms", tags=["vms"], responses=ERROR_RESPONSES, dependencies=secured)

# Every state a VM can be in, from the one list in the domain.
VmStateFilter = VmState


@router.post(
    "",
    operation_id="create_vm",
    status_code=201,
    response_model=VmOut,
    responses=responses(404, 409, 502, 503),
)
def create_vm(
    body: VmCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> VmOut:
    """Place, define and start a VM. A 409 `no_capacity` says, per filter, why no host fits."""
    cmd = vms.CreateVm(
        name=body.name,
        vcpus=body.vcpus,
        memory_mib=body.memory_mib,
        disk_gib=body.disk_gib,
        image=body.image,
        pool_id=body.pool_id,
        guaranteed=body.guaranteed,
        arch=body.arch,
        kvm_only=body.kvm_only,
        required_traits=frozenset(body.traits),
        hosts=frozenset(body.hosts) if body.hosts is not None else None,
        placement_group=body.placement_group,
        migratable=body.migratable,
        ha=body.ha,
        kernel_args=tuple(body.kernel_args),
        disk_storage=body.disk_storage,
        first_boot=FirstBoot(
            user_data=body.user_data,
            ssh_keys=tuple(body.ssh_keys),
            network_config=body.network_config,
        ),
        project_id=body.project_id,
        max_vcpus=body.max_vcpus,
        max_memory_mib=body.max_memory_mib,
        nics=tuple(nics.NicRequest(n.network, n.mac, n.ipv4, n.ipv6, n.model) for n in body.nics),
        lease_expires_at=body.lease_expires_at,
        lease_s=body.lease_s,
        reclaim_policy=body.reclaim_policy,
        hardware=HardwareRequest(
            tpm=body.tpm,
            sgx_epc_mib=body.sgx_epc_mib,
            cpu_policy=CpuPolicy(body.cpu_policy),
            hugepages=body.hugepages,
            devices=tuple(DeviceRequest(d.alias, d.count) for d in body.devices),
        ),
    )
    view = vms.create_vm(ctx, cmd, actor=principal.name)
    return for_caller(VmOut.model_validate(view), principal)


@router.get("", operation_id="list_vms", response_model=VmPage)
def list_vms(
    host_id: IdFilter = None,
    state: VmStateFilter | None = None,
    pool_id: IdFilter = None,
    name: NameFilter = None,
    idle: bool | None = Query(
        default=None,
        description="true: only the VMs reported idle by their pool's idle rule "
        "(idle_warned_at set); false: the others",
    ),
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> VmPage:
    """The VMs the caller may see (a project's token: its project's), by id. Filtering by
    host or pool is for admins."""
    if not principal.is_admin and (host_id is not None or pool_id is not None):
        raise Forbidden("filtering by host or pool needs the admin role")
    items = vms.list_vms(
        ctx,
        host_id=host_id,
        state=state.value if state is not None else None,
        pool_id=pool_id,
        name=name,
        after_id=after,
        limit=limit,
        idle=idle,
    )
    next_after = items[-1].id if len(items) == limit else None
    shown = [for_caller(VmOut.model_validate(v), principal) for v in items]
    return VmPage(items=shown, next_after=next_after)


@router.get(
    "/{vm_id}",
    operation_id="get_vm",
    response_model=VmOut,
    responses=responses(404),
)
def get_vm(vm_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller) -> VmOut:
    return for_caller(VmOut.model_validate(vms.get_vm(ctx, vm_id)), principal)


@router.patch(
    "/{vm_id}",
    operation_id="resize_vm",
    response_model=VmOut,
    responses=responses(404, 409, 502, 503),
)
def resize_vm(
    vm_id: PathId,
    body: VmResize,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> VmOut:
    """Hot-plug: new vCPUs and/or memory within the VM's max_vcpus and max_memory_mib, live
    while it runs (vCPUs plugged or unplugged, memory through the balloon) and in its
    definition while it is stopped. A growth is claimed first: a 409 `no_capacity` says, per
    filter, why its host cannot take it (`quota_exceeded`: its project's quota); a shrink
    frees the capacity once the host confirmed it."""
    view = vm_resize.resize_vm(
        ctx, vm_id, vcpus=body.vcpus, memory_mib=body.memory_mib, actor=principal.name
    )
    return for_caller(VmOut.model_validate(view), principal)


def _action_route(action: str, summary: str) -> None:
    def handler(
        vm_id: PathId,
        ctx: ServiceContext = Scoped,
        principal: Principal = Caller,
    ) -> VmOut:
        view = vm_actions.power_action(ctx, vm_id, action, actor=principal.name)
        return for_caller(VmOut.model_validate(view), principal)

    handler.__doc__ = summary
    router.add_api_route(
        f"/{{vm_id}}/{action}",
        handler,
        methods=["POST"],
        operation_id=f"{action}_vm",
        response_model=VmOut,
        responses=responses(404, 409, 502, 503),
        summary=summary,
    )


_action_route("start", "Start a stopped VM")
_action_route("shutdown", "Ask the guest to power off (ACPI); the state follows the guest")
_action_route("stop", "Power a VM off at once (like pulling the plug)")
_action_route("reboot", "Ask the guest to reboot")


@router.delete(
    "/{vm_id}",
    operation_id="delete_vm",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409, 502, 503),
)
def delete_vm(
    vm_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Destroy and undefine the domain, then free the VM's capacity. On an unreachable host:
    503, and the VM stays `deleting` until the host answers and the sync finishes the delete."""
    vms.delete_vm(ctx, vm_id, actor=principal.name)
    return Response(status_code=204)


@router.post(
    "/{vm_id}/migrate",
    operation_id="migrate_vm",
    status_code=202,
    response_model=MigrationOut,
    responses=responses(404, 409),
)
def migrate_vm(
    vm_id: PathId,
    body: MigrateIn,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> MigrationOut:
    """Live-migrate a running VM. Without a target, placement chooses one (never the source).
    The target's capacity is claimed now; follow the migration at /v1/migrations/{id}."""
    opts = migrations.MigrateOptions(**body.model_dump())
    view = migrations.request_migration(ctx, vm_id, opts, actor=principal.name)
    return for_caller(MigrationOut.model_validate(view), principal)


@router.post(
    "/{vm_id}/lease/renew",
    operation_id="renew_vm_lease",
    response_model=VmOut,
    responses=responses(404, 409),
)
def renew_vm_lease(
    vm_id: PathId,
    body: LeaseRenew,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> VmOut:
    """A new end for the VM's lease: `lease_s` seconds from now or `until` an instant (one
    of them), within its pool's max_lease_s (else 422); the expiry warnings start afresh.
    A VM without a lease: 409."""
    view = leases.renew_lease(
        ctx, vm_id, lease_s=body.lease_s, until=body.until, actor=principal.name
    )
    return for_caller(VmOut.model_validate(view), principal)


@router.get(
    "/{vm_id}/metrics",
    operation_id="get_vm_metrics",
    response_model=LoadOut,
    responses=responses(404),
)
def get_vm_metrics(vm_id: PathId, ctx: ServiceContext = Scoped) -> LoadOut:
    """Measured load: the last sample and the smoothed CPU utilisation."""
    return LoadOut.model_validate(metrics.load_of(ctx, "vm", vm_id, ctx.metrics_window_s))
