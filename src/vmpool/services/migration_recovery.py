"""Settling migrations that vmpool was not there to see end (it stopped mid-way).

From where the VM runs now, and whether the source still has a libvirt job: one still
running is handed back to be watched (`migration_execution.watch`); one that ended is
recorded completed (the target runs it), re-queued (it never started) or failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vmpool.domain.migration import RUNNING_MIGRATION_STATES, MigrationState
from vmpool.domain.vm import VmState
from vmpool.errors import HostUnreachable
from vmpool.services import cpu_pins
from vmpool.services.migrations import source_of
from vmpool.services.unit_of_work import ServiceContext


@dataclass
class Unowned:
    settled: list[int]
    still_running: list[int]  # libvirt still runs the job: someone must watch it


def resolve_unowned(ctx: ServiceContext, owned: Callable[[], set[int]]) -> Unowned:
    """Settle migrations left mid-way (vmpool died) from where their VM runs now.

    `owned()` answers which migrations this process runs right now. It is asked again just
    before a record is settled: the runner may have dispatched the migration meanwhile (it
    marks a migration owned before the `preparing` state it wrote can be read)."""
    settled: list[int] = []
    still_running: list[int] = []
    with ctx.uow() as uow:
        mine = owned()
        rows = [
            (
                m.id,
                m.vm.uuid,
                m.vm_id,
                source_of(m).uri,
                m.target_host.uri if m.target_host else None,
            )
            for m in uow.migrations.in_states([s.value for s in RUNNING_MIGRATION_STATES])
            if m.id not in mine
        ]
    for mid, vm_uuid, vm_id, source_uri, target_uri in rows:
        try:
            source = ctx.hypervisors.connect(source_uri)
            if source.is_active(vm_uuid) and source.job_progress(vm_uuid).active:
                still_running.append(mid)  # libvirt is still moving it
                continue
            on_source = source.is_active(vm_uuid)
            on_target = (
                ctx.hypervisors.connect(target_uri).is_active(vm_uuid) if target_uri else False
            )
        except HostUnreachable:
            continue
        with ctx.uow() as uow:
            m = uow.migrations.get(mid)
            if m.is_final or m.id in owned():
                continue
            vm = uow.vms.get(vm_id)
            now = ctx.clock()
            migrating = vm.vm_state is VmState.MIGRATING
            if on_target and not on_source:
                m.complete(now)
                vm.arrive(m.target_host_id, now)
            elif on_source and m.migration_state is MigrationState.PREPARING:
                m.requeue()  # never started: try again
                if migrating:
                    vm.stay(now)
            else:
                m.fail(
                    now,
                    "interrupted: vmpool stopped during the migration"
                    + (
                        "; the VM stayed on its source"
                        if on_source
                        else "; the VM runs on neither host"
                    ),
                )
                if migrating and on_source:
                    vm.stay(now)
                elif migrating:
                    vm.lose(now, "the VM runs on neither host after an interrupted migration")
            cpu_pins.settle_migration(uow, m)  # dedicated CPUs: those of where it runs stay
            uow.events.record("sync", "migration.settled", f"migration/{mid}", state=m.state)
            uow.commit()
            settled.append(mid)
    return Unowned(settled, still_running)
