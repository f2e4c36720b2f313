from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from vmpool.api.auth import admin_principal, read_access, service_context
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, IdFilter, PathId
from vmpool.api.schemas import LoadOut, MigrateIn, MigrationOut, VmCreate, VmOut, VmPage
from vmpool.domain.seed import FirstBoot
from vmpool.domain.vm import VmState
from vmpool.services import metrics, migrations, nics, vm_actions, vms
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(prefix="/v1/vms", tags=["vms"], responses=ERROR_RESPONSES)

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
    ctx: ServiceContext = Depends(service_context),
    principal: Principal = admin_principal,
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
        kernel_args=tuple(body.kernel_args),
        disk_storage=body.disk_storage,
        first_boot=FirstBoot(
            user_data=body.user_data,
            ssh_keys=tuple(body.ssh_keys),
            network_config=body.network_config,
        ),
        nics=tuple(nics.NicRequest(n.network, n.mac, n.ipv4, n.ipv6, n.model) for n in body.nics),
    )
    return VmOut.model_validate(vms.create_vm(ctx, cmd, actor=principal.name))


@router.get("", operation_id="list_vms", response_model=VmPage, dependencies=[read_access])
def list_vms(
    host_id: IdFilter = None,
    state: VmStateFilter | None = None,
    pool_id: IdFilter = None,
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Depends(service_context),
) -> VmPage:
    items = vms.list_vms(
        ctx,
        host_id=host_id,
        state=state.value if state is not None else None,
        pool_id=pool_id,
        after_id=after,
        limit=limit,
    )
    next_after = items[-1].id if len(items) == limit else None
    return VmPage(items=[VmOut.model_validate(v) for v in items], next_after=next_after)


@router.get(
    "/{vm_id}",
    operation_id="get_vm",
    response_model=VmOut,
    dependencies=[read_access],
    responses=responses(404),
)
def get_vm(vm_id: PathId, ctx: ServiceContext = Depends(service_context)) -> VmOut:
    return VmOut.model_validate(vms.get_vm(ctx, vm_id))


def _action_route(action: str, summary: str) -> None:
    def handler(
        vm_id: PathId,
        ctx: ServiceContext = Depends(service_context),
        principal: Principal = admin_principal,
    ) -> VmOut:
        return VmOut.model_validate(
            vm_actions.power_action(ctx, vm_id, action, actor=principal.name)
        )

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
    ctx: ServiceContext = Depends(service_context),
    principal: Principal = admin_principal,
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
    ctx: ServiceContext = Depends(service_context),
    principal: Principal = admin_principal,
) -> MigrationOut:
    """Live-migrate a running VM. Without a target, placement chooses one (never the source).
    The target's capacity is claimed now; follow the migration at /v1/migrations/{id}."""
    opts = migrations.MigrateOptions(**body.model_dump())
    return MigrationOut.model_validate(
        migrations.request_migration(ctx, vm_id, opts, actor=principal.name)
    )


@router.get(
    "/{vm_id}/metrics",
    operation_id="get_vm_metrics",
    response_model=LoadOut,
    dependencies=[read_access],
    responses=responses(404),
)
def get_vm_metrics(vm_id: PathId, ctx: ServiceContext = Depends(service_context)) -> LoadOut:
    """Measured load: the last sample and the smoothed CPU utilisation."""
    return LoadOut.model_validate(metrics.load_of(ctx, "vm", vm_id, ctx.metrics_window_s))
