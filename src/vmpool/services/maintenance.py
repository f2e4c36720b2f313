"""Host maintenance: stop placing onto a host and empty it by live migration.

Evacuation migrations go through the ordinary queue, so the per-host and per-pool
limits hold ("a few at a time"). A VM that cannot move (no room elsewhere, marked
not migratable, a failed attempt) is reported on its own and does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.adapters.db.tables import MigrationRow
from vmpool.domain.host import HostState
from vmpool.domain.migration import MigrationState
from vmpool.domain.vm import VmState
from vmpool.errors import InvalidState, VmpoolError
from vmpool.services import migrations
from vmpool.services.hosts import host_view
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import HostView

EVACUATION = "evacuation"


@dataclass(frozen=True)
class EvacuationItem:
    vm_id: int
    vm_name: str
    state: str  # the VM's migration state, or "stays" / "pending"
    migration_id: int | None
    target_host: str | None
    error: str | None


@dataclass(frozen=True)
class Evacuation:
    status: str  # evacuating | done | incomplete
    vms_remaining: int
    items: list[EvacuationItem]


def enter_maintenance(ctx: ServiceContext, host_id: int, actor: str) -> HostView:
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        if host.state != HostState.MAINTENANCE.value:
            host.state = HostState.MAINTENANCE.value
            host.maintenance_since = ctx.clock()
            uow.events.record(actor, "host.maintenance", f"host/{host_id}", name=host.name)
        to_move = [
            (vm.id, migrations.options_for(vm))
            for vm in uow.vms.on_host(host_id)
            if vm.state == VmState.RUNNING.value and uow.migrations.active_for_vm(vm.id) is None
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
        if host.state != HostState.MAINTENANCE.value:
            raise InvalidState(f"host {host.name} is not in maintenance", state=host.state)
        # Back to `up`; if it is not reachable, the next sync says so.
        host.state = HostState.UP.value
        host.maintenance_since = None
        for m in uow.migrations.page(host_id=host_id, state=MigrationState.QUEUED.value):
            if m.reason == EVACUATION and m.source_host_id == host_id:
                m.state = MigrationState.CANCELLED.value
                m.error = "the host left maintenance"
                m.finished_at = ctx.clock()
        uow.events.record(actor, "host.maintenance_ended", f"host/{host_id}", name=host.name)
        uow.commit()
    return get_host_with_evacuation(ctx, host_id)


def evacuation_of(uow: UnitOfWork, host_id: int) -> Evacuation | None:
    host = uow.hosts.get(host_id)
    if host.maintenance_since is None:
        return None
    latest: dict[int, MigrationRow] = {}
    for m in uow.migrations.page(host_id=host_id, since=host.maintenance_since, limit=10_000):
        if m.reason == EVACUATION and m.source_host_id == host_id:
            latest[m.vm_id] = m  # ordered by id: the last one wins
    items: list[EvacuationItem] = []
    busy = False
    remaining = 0
    for vm in uow.vms.on_host(host_id):
        if vm.state not in (VmState.RUNNING.value, VmState.MIGRATING.value):
            why = f"the VM is {vm.state}: only running VMs are moved"
            items.append(EvacuationItem(vm.id, vm.name, "stays", None, None, why))
            continue
        remaining += 1
        last = latest.get(vm.id)
        if last is None:
            items.append(EvacuationItem(vm.id, vm.name, "pending", None, None, None))
            busy = True
            continue
        if not MigrationState(last.state).is_final:
            busy = True
        target = last.target_host_name
        items.append(EvacuationItem(vm.id, vm.name, last.state, last.id, target, last.error))
    for vm_id, m in latest.items():
        if m.state == MigrationState.COMPLETED.value:
            target = m.target_host_name
            items.append(EvacuationItem(vm_id, m.vm.name, m.state, m.id, target, None))
    status = "evacuating" if busy else ("done" if remaining == 0 else "incomplete")
    return Evacuation(status=status, vms_remaining=remaining, items=items)


def get_host_with_evacuation(ctx: ServiceContext, host_id: int) -> HostView:
    with ctx.uow() as uow:
        return host_view(uow, uow.hosts.get(host_id))
