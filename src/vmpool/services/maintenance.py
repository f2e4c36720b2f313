"""Host maintenance: stop placing onto a host and empty it by live migration.

Evacuation migrations go through the ordinary queue, so the per-host and per-pool
limits hold ("a few at a time"). A VM that cannot move (no room elsewhere, marked
not migratable, a failed attempt) is reported on its own and does not stop the others.
"""

from __future__ import annotations

from vmpool.domain.migration import MigrationState
from vmpool.domain.vm import VmState
from vmpool.errors import VmpoolError
from vmpool.services import migrations
from vmpool.services.host_views import EVACUATION, host_view
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import Evacuation, HostView

__all__ = ["Evacuation", "enter_maintenance", "get_host_with_evacuation", "leave_maintenance"]


def enter_maintenance(ctx: ServiceContext, host_id: int, actor: str) -> HostView:
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        if host.enter_maintenance(ctx.clock()):
            uow.events.record(actor, "host.maintenance", f"host/{host_id}", name=host.name)
        to_move = [
            (vm.id, migrations.options_for(uow, vm))
            for vm in uow.vms.on_host(host_id)
            if vm.vm_state is VmState.RUNNING and uow.migrations.active_for_vm(vm.id) is None
        ]
        uow.commit()
    for vm_id, options in to_move:
        try:
            migrations.request_migration(ctx, vm_id, options, reason=EVACUATION, actor=actor)
        except VmpoolError as exc:
            migrations.record_refusal(ctx, vm_id, EVACUATION, exc, actor)
    return get_host_with_evacuation(ctx, host_id)


def leave_maintenance(ctx: ServiceContext, host_id: int, actor: str) -> HostView:
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        host.leave_maintenance()
        for m in uow.migrations.page(host_id=host_id, state=MigrationState.QUEUED.value):
            if m.reason == EVACUATION and m.source_host_id == host_id:
                m.cancel(ctx.clock(), "the host left maintenance")
        uow.events.record(actor, "host.maintenance_ended", f"host/{host_id}", name=host.name)
        uow.commit()
    return get_host_with_evacuation(ctx, host_id)


def get_host_with_evacuation(ctx: ServiceContext, host_id: int) -> HostView:
    with ctx.uow() as uow:
        return host_view(uow, uow.hosts.get(host_id))
