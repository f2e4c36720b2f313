"""Host maintenance: stop placing onto a host and empty it by live migration.

Evacuation migrations go through the ordinary queue, so the per-host and per-pool
limits hold ("a few at a time"). A VM that cannot move (no room elsewhere, marked
not migratable, a failed attempt) is reported on its own and does not stop the others.
"""

from __future__ import annotations

from vmpool.domain.migration import MigrationState
from vmpool.domain.vm import VmState
from vmpool.errors import VmpoolError
from vmpool.services import cpu_pins, migrations
from vmpool.services.host_views import EVACUATION, evacuations, host_view
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import Evacuation, HostView

__all__ = [
    "Evacuation",
    "continue_evacuations",
    "enter_maintenance",
    "get_host_with_evacuation",
    "leave_maintenance",
]


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


def continue_evacuations(ctx: ServiceContext) -> list[int]:
    """Hosts in maintenance: a running VM that no evacuation was asked for yet (it was busy
    with another migration when its host entered maintenance, and that one did not take it
    away) is asked for now. Once per VM: a refusal is recorded as a failed evacuation, which
    the host's evacuation then reports, as at entry. Answers the VMs asked for."""
    with ctx.read_uow() as uow:
        todo = []
        for host in uow.hosts.list():
            if host.maintenance_since is None:
                continue
            asked = evacuations(uow, host)
            todo += [
                (vm.id, migrations.options_for(uow, vm))
                for vm in uow.vms.on_host(host.id)
                if vm.vm_state is VmState.RUNNING
                and vm.id not in asked
                and uow.migrations.active_for_vm(vm.id) is None
            ]
    asked_now = []
    for vm_id, options in todo:
        try:
            migrations.request_migration(ctx, vm_id, options, reason=EVACUATION, actor="scheduler")
        except VmpoolError as exc:
            with ctx.read_uow() as uow:
                if uow.migrations.active_for_vm(vm_id) is not None:
                    continue  # moving meanwhile (maintenance entry asked for it): not refused
            migrations.record_refusal(ctx, vm_id, EVACUATION, exc, "scheduler")
        asked_now.append(vm_id)
    return asked_now


def leave_maintenance(ctx: ServiceContext, host_id: int, actor: str) -> HostView:
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        host.leave_maintenance()
        for m in uow.migrations.page(host_id=host_id, state=MigrationState.QUEUED.value):
            if m.reason == EVACUATION and m.source_host_id == host_id:
                m.cancel(ctx.clock(), "the host left maintenance")
                cpu_pins.settle_migration(uow, m)
        uow.events.record(actor, "host.maintenance_ended", f"host/{host_id}", name=host.name)
        uow.commit()
    return get_host_with_evacuation(ctx, host_id)


def get_host_with_evacuation(ctx: ServiceContext, host_id: int) -> HostView:
    with ctx.uow() as uow:
        return host_view(uow, uow.hosts.get(host_id))
