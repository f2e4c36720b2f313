"""Live migration, requested: check, choose and claim the target, queue; cancel; read.

The record is written before libvirt is called and after each step. Running a queued
migration is `migration_execution`; settling one that vmpool was not there to see is
`migration_recovery`. A VM is never recorded on two hosts: its `host_id` moves to the
target only once the target runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from vmpool.adapters.db.tables import HostRow, MigrationRow, VmRow
from vmpool.domain import limits
from vmpool.domain.disk import check_migration_storage, migration_storage
from vmpool.domain.hypervisor_features import LIVE_MIGRATION
from vmpool.domain.migration import MigrationState
from vmpool.domain.ports import Metrics, NoMetrics
from vmpool.domain.snapshot import (
    check_snapshot_migration,
    check_vm_snapshot_free,
)
from vmpool.domain.vm import VmState
from vmpool.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound, VmpoolError
from vmpool.services import cpu_pins
from vmpool.services.group_rules import group_of_vm
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import require_host_feature, timed_place
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

_NO_METRICS = NoMetrics()


@dataclass(frozen=True)
class MigrateOptions:
    target_host_id: int | None = None
    bandwidth_mib_s: int | None = None
    max_downtime_ms: int = 500
    auto_converge: bool = False  # as Nova; see docs/migration.md for why
    allow_post_copy: bool = False
    completion_timeout_s_per_gib: int = 800  # as OpenStack Nova
    storage: str | None = None  # shared | copy; None: what the VM's disks need

    def check(self) -> None:
        limits.BANDWIDTH_MIB_S.check(self.bandwidth_mib_s, "bandwidth_mib_s")
        limits.MAX_DOWNTIME_MS.check(self.max_downtime_ms, "max_downtime_ms")
        limits.COMPLETION_TIMEOUT_S_PER_GIB.check(
            self.completion_timeout_s_per_gib, "completion_timeout_s_per_gib"
        )
        if self.storage not in (None, "shared", "copy"):
            raise InvalidInput("storage must be shared or copy", field="storage")


@dataclass(frozen=True)
class MigrationView:
    id: int
    vm_id: int
    vm_name: str
    source_host_id: int | None
    source_host: str
    target_host_id: int | None
    target_host: str | None
    state: str
    reason: str
    bandwidth_mib_s: int | None
    max_downtime_ms: int
    auto_converge: bool
    allow_post_copy: bool
    completion_timeout_s_per_gib: int
    storage: str
    cancel_requested: bool
    data_total: int | None
    data_processed: int | None
    data_remaining: int | None
    memory_dirty_rate: int | None
    iteration: int | None
    current_max_downtime_ms: int | None
    post_copy: bool
    downtime_ms: int | None
    total_time_ms: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def source_of(m: MigrationRow) -> HostRow:
    """The source of an unfinished migration: a host cannot be deleted while one refers to it."""
    if m.source_host is None:
        raise InvalidState(f"migration {m.id}: its source host {m.source_host_name} was deleted")
    return m.source_host


def migration_view(m: MigrationRow) -> MigrationView:
    return MigrationView(
        id=m.id,
        vm_id=m.vm_id,
        vm_name=m.vm.name,
        source_host_id=m.source_host_id,
        source_host=m.source_host_name,
        target_host_id=m.target_host_id,
        target_host=m.target_host_name,
        state=m.state,
        reason=m.reason,
        bandwidth_mib_s=m.bandwidth_mib_s,
        max_downtime_ms=m.max_downtime_ms,
        auto_converge=m.auto_converge,
        allow_post_copy=m.allow_post_copy,
        completion_timeout_s_per_gib=m.completion_timeout_s_per_gib,
        storage=m.storage,
        cancel_requested=m.cancel_requested,
        data_total=m.data_total,
        data_processed=m.data_processed,
        data_remaining=m.data_remaining,
        memory_dirty_rate=m.memory_dirty_rate,
        iteration=m.iteration,
        current_max_downtime_ms=m.current_max_downtime_ms,
        post_copy=m.post_copy,
        downtime_ms=m.downtime_ms,
        total_time_ms=m.total_time_ms,
        error=m.error,
        created_at=m.created_at,
        started_at=m.started_at,
        finished_at=m.finished_at,
    )


def migration_address(host: HostRow) -> str:
    """Where migration data for `host` goes: its set address, else its URI's host."""
    if host.migration_address:
        return host.migration_address
    hostname = urlsplit(host.uri).hostname
    if not hostname:
        raise InvalidState(
            f"host {host.name} has no migration address: set migration_address on it",
            host_id=host.id,
        )
    return hostname


# --- requesting -----------------------------------------------------------------------


def storage_of(uow: UnitOfWork, vm: VmRow) -> tuple[bool, bool]:
    """(has local disks, has shared disks): its boot disk and its data disks."""
    kinds = uow.disks.storage_kinds(vm.id)
    if vm.disk_storage:
        kinds.add(vm.disk_storage)
    return "local" in kinds, "shared" in kinds


def options_for(uow: UnitOfWork, vm: VmRow, target_host_id: int | None = None) -> MigrateOptions:
    """Default options for a move vmpool decides itself (evacuation, rebalance): disks
    local to the source are copied, anything else is on storage both hosts see."""
    return MigrateOptions(
        target_host_id=target_host_id, storage=migration_storage(*storage_of(uow, vm))
    )


def request_migration(
    ctx: ServiceContext,
    vm_id: int,
    opts: MigrateOptions,
    reason: str = "api",
    actor: str = "api",
) -> MigrationView:
    """Validate, choose and claim the target, and queue the migration (nothing runs yet)."""
    opts.check()
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        if ctx.project_id is not None:  # a project member, not an admin (docs/security.md)
            if opts.target_host_id is not None:
                raise Forbidden("choosing the target host needs the admin role")
            if not uow.pools.get(vm.pool_id).members_may_migrate:
                raise Forbidden("this pool does not let members migrate (members_may_migrate)")
        row = queue_migration(uow, vm, opts, reason, actor, ctx.metrics)
        view = migration_view(row)
        uow.commit()
    if ctx.migration_queue is not None:
        ctx.migration_queue.kick()
    return view


def queue_migration(
    uow: UnitOfWork, vm: VmRow, opts: MigrateOptions, reason: str, actor: str,
    metrics: Metrics = _NO_METRICS,
) -> MigrationRow:  # fmt: skip
    """Inside the caller's transaction: check, claim the target and record the queued
    migration. Raises before writing anything when the VM cannot move."""
    opts.check()
    uow.pools.get_for_update(vm.pool_id)  # claims on the target are taken one at a time
    row = _new_migration(uow, vm, opts, reason, metrics)
    uow.events.record(
        actor, "migration.requested", f"migration/{row.id}",
        vm=vm.name, target=row.target_host.name if row.target_host else None, reason=reason,
    )  # fmt: skip
    return row


def _new_migration(
    uow: UnitOfWork, vm: VmRow, opts: MigrateOptions, reason: str, metrics: Metrics
) -> MigrationRow:
    if vm.host_id is not None:  # a silent host first: 503, try again (its VM is unknown)
        require_reachable(uow.hosts.get(vm.host_id))
    if vm.vm_state is not VmState.RUNNING:
        raise InvalidState(
            f"VM {vm.name} is {vm.state}: only a running VM can be live-migrated", state=vm.state
        )
    if uow.migrations.active_for_vm(vm.id) is not None:
        raise InvalidState(f"VM {vm.name} is already being migrated")
    if not vm.migratable:
        raise InvalidState(f"VM {vm.name} is marked not migratable")
    check_hardware_migration(vm)
    if vm.host_id is None:
        raise InvalidState(f"VM {vm.name} has no host")
    source = require_reachable(uow.hosts.get(vm.host_id))
    require_host_feature(source, LIVE_MIGRATION, f"live-migrate VM {vm.name}")
    requested: frozenset[str] | None = None
    if opts.target_host_id is not None:
        target = uow.hosts.find(opts.target_host_id)
        if target is None:
            raise NotFound(f"host {opts.target_host_id} does not exist", field="target_host_id")
        if target.id == source.id:
            raise Conflict(f"VM {vm.name} already runs on {source.name}", field="target_host_id")
        if target.pool_id != vm.pool_id:
            raise Conflict(f"host {target.name} is in another pool", field="target_host_id")
        requested = frozenset({target.name})
    has_local, has_shared = storage_of(uow, vm)
    storage = opts.storage or migration_storage(has_local, has_shared)
    check_migration_storage(storage, has_local, has_shared, vm.name)
    snaps = uow.snapshots.of_vm(vm.id)
    check_vm_snapshot_free(vm.name, uow.vms.snapshot_busy(vm.id) is not None)
    check_snapshot_migration(vm.name, len(snaps), storage)
    pool = uow.pools.get(vm.pool_id)
    needs = vm.placement_requirements(
        group_of_vm(uow, vm),
        allowed_hosts=requested,
        local_data_gib=uow.disks.local_gib(vm.id),
        networks=uow.nics.network_names(vm.id),
    )
    # A dedicated VM: the target gives its guest NUMA cells again (docs/hardware.md).
    moving = cpu_pins.moving_cells_of(uow, vm, source.id)
    request = replace(
        needs,
        excluded_hosts=frozenset({source.name}),
        # Placement chooses only among hosts that migrate live (a target named by the
        # caller is refused below with its driver's reason).
        hardware=replace(
            needs.hardware,
            moving_cells=moving,
            host_features=frozenset({LIVE_MIGRATION}) if requested is None else frozenset(),
        ),
    )
    chosen = timed_place(metrics, "migrate", uow, pool, request)
    target = uow.hosts.get(chosen.id)
    require_host_feature(target, LIVE_MIGRATION, f"live-migrate VM {vm.name} to {target.name}")
    if has_shared and target.shared_disk_path != source.shared_disk_path:
        raise Conflict(
            f"host {target.name} mounts shared storage at {target.shared_disk_path}, "
            f"not at {source.shared_disk_path} where VM {vm.name}'s disk is",
            field="target_host_id",
        )
    migration_address(target)  # refuse now, not half-way, when it has none
    row = MigrationRow(
        vm_id=vm.id,
        pool_id=vm.pool_id,
        source_host_id=source.id,
        source_host_name=source.name,
        target_host_id=target.id,
        target_host_name=target.name,
        reason=reason,
        bandwidth_mib_s=opts.bandwidth_mib_s,
        max_downtime_ms=opts.max_downtime_ms,
        auto_converge=opts.auto_converge,
        allow_post_copy=opts.allow_post_copy,
        completion_timeout_s_per_gib=opts.completion_timeout_s_per_gib,
        storage=storage,
    )
    added = uow.migrations.add(row)
    # Its dedicated CPUs on the target, under the pool lock the target claim is taken with:
    # held by it (beside the source's) until the outcome (cpu_pins.settle_migration).
    cpu_pins.pin_on(uow, vm, chosen, moving)
    return added


def record_refusal(
    ctx: ServiceContext, vm_id: int, reason: str, error: VmpoolError, actor: str
) -> None:
    """A migration that could not even be queued, kept as a failed record so that
    whoever asked (an evacuation) can see why this VM stayed."""
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        if vm.host_id is None:
            return
        now = ctx.clock()
        row = uow.migrations.add(
            MigrationRow(
                vm_id=vm.id,
                pool_id=vm.pool_id,
                source_host_id=vm.host_id,
                source_host_name=vm.host.name if vm.host is not None else "",
                target_host_id=None,
                reason=reason,
                started_at=now,
            )
        )
        row.fail(now, error.message)
        uow.events.record(actor, "migration.refused", f"migration/{row.id}", vm=vm.name,
                          error=error.message)  # fmt: skip
        uow.commit()


def cancel_migration(ctx: ServiceContext, migration_id: int, actor: str = "api") -> MigrationView:
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        # Not started: it ends now (the claim on the target goes with the state); started:
        # the worker aborts the libvirt job.
        m.request_cancel(ctx.clock())
        cpu_pins.settle_migration(uow, m)  # not started: the target's CPUs go with it
        uow.events.record(actor, "migration.cancel", f"migration/{m.id}")
        view = migration_view(m)
        uow.commit()
        return view


def get_migration(ctx: ServiceContext, migration_id: int) -> MigrationView:
    with ctx.uow() as uow:
        return migration_view(uow.migrations.get(migration_id))


def list_migrations(
    ctx: ServiceContext,
    *,
    vm_id: int | None = None,
    host_id: int | None = None,
    state: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[MigrationView]:
    if state is not None and state not in {s.value for s in MigrationState}:
        raise InvalidInput(
            f"unknown state {state!r}", known=sorted(s.value for s in MigrationState)
        )
    with ctx.uow() as uow:
        rows = uow.migrations.page(
            vm_id=vm_id, host_id=host_id, state=state, after_id=after_id, limit=limit
        )
        return [migration_view(m) for m in rows]


def check_hardware_migration(vm: VmRow) -> None:
    """409 for a VM its special hardware keeps on its host (Vm.hardware_migration_blocker)."""
    if (why := vm.hardware_migration_blocker()) is not None:
        raise Conflict(why, field="vm")
