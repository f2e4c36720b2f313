"""Live migration: request, run, cancel, and settle what vmpool was not there to see.

The record is written before libvirt is called and after each step. libvirt's
managed peer-to-peer migration goes on if vmpool dies, so an unfinished record
is later settled from what the hosts say (`resolve_unowned`): where the domain
runs now, and whether the source still has a job. A VM is never recorded on two
hosts: its `host_id` moves to the target only once the target runs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from vmpool.adapters.db.tables import HostRow, MigrationRow, VmRow
from vmpool.domain.migration import MigrationState
from vmpool.domain.model import completion_timeout_s, downtime_steps
from vmpool.domain.ports import DISK_TARGET, Hypervisor, JobProgress, MigrationRequest
from vmpool.domain.vm import VmState
from vmpool.errors import (
    Conflict,
    DomainMissing,
    HostUnreachable,
    InvalidInput,
    InvalidState,
    NotFound,
    VmpoolError,
)
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import placement_hosts, policy_of
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.vms import group_rule_of_vm, place_or_refuse, placement_request

log = logging.getLogger(__name__)

MAX_BANDWIDTH_MIB_S = 1024 * 1024
RUNNING_STATES = (MigrationState.PREPARING, MigrationState.RUNNING, MigrationState.COMPLETING)


@dataclass(frozen=True)
class MigrateOptions:
    target_host_id: int | None = None
    bandwidth_mib_s: int | None = None
    max_downtime_ms: int = 500
    auto_converge: bool = False  # as Nova; see docs/migration.md for why
    allow_post_copy: bool = False
    completion_timeout_s_per_gib: int = 800  # as OpenStack Nova
    storage: str = "shared"  # shared | copy

    def check(self) -> None:
        if self.bandwidth_mib_s is not None and not 0 < self.bandwidth_mib_s <= MAX_BANDWIDTH_MIB_S:
            raise InvalidInput("bandwidth_mib_s must be positive", field="bandwidth_mib_s")
        if not 1 <= self.max_downtime_ms <= 600_000:
            raise InvalidInput("max_downtime_ms must be 1..600000", field="max_downtime_ms")
        if not 1 <= self.completion_timeout_s_per_gib <= 86_400:
            raise InvalidInput(
                "completion_timeout_s_per_gib must be 1..86400",
                field="completion_timeout_s_per_gib",
            )
        if self.storage not in ("shared", "copy"):
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


def _source(m: MigrationRow) -> HostRow:
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


def options_for(vm: VmRow, target_host_id: int | None = None) -> MigrateOptions:
    """Default options for a move vmpool decides itself (evacuation, rebalance): a disk
    local to the source is copied, anything else is on storage both hosts see."""
    storage = "copy" if vm.disk_storage == "local" else "shared"
    return MigrateOptions(target_host_id=target_host_id, storage=storage)


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
        row = queue_migration(uow, vm, opts, reason, actor)
        view = migration_view(row)
        uow.commit()
    if ctx.migration_queue is not None:
        ctx.migration_queue.kick()
    return view


def queue_migration(
    uow: UnitOfWork, vm: VmRow, opts: MigrateOptions, reason: str, actor: str
) -> MigrationRow:
    """Inside the caller's transaction: check, claim the target and record the queued
    migration. Raises before writing anything when the VM cannot move."""
    opts.check()
    uow.pools.get_for_update(vm.pool_id)  # claims on the target are taken one at a time
    row = _new_migration(uow, vm, opts, reason)
    uow.events.record(
        actor, "migration.requested", f"migration/{row.id}",
        vm=vm.name, target=row.target_host.name if row.target_host else None, reason=reason,
    )  # fmt: skip
    return row


def _new_migration(uow: UnitOfWork, vm: VmRow, opts: MigrateOptions, reason: str) -> MigrationRow:
    if VmState(vm.state) is not VmState.RUNNING:
        raise InvalidState(
            f"VM {vm.name} is {vm.state}: only a running VM can be live-migrated", state=vm.state
        )
    if uow.migrations.active_for_vm(vm.id) is not None:
        raise InvalidState(f"VM {vm.name} is already being migrated")
    if not vm.migratable:
        raise InvalidState(f"VM {vm.name} is marked not migratable")
    if vm.host_id is None:
        raise InvalidState(f"VM {vm.name} has no host")
    source = require_reachable(uow.hosts.get(vm.host_id))
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
    if vm.disk_storage == "local" and opts.storage == "shared":
        raise Conflict(
            f"VM {vm.name}'s disk is local to {source.name}: migrate with storage=copy",
            field="storage",
        )
    if vm.disk_storage == "shared" and opts.storage == "copy":
        raise Conflict(
            f"VM {vm.name}'s disk is on shared storage: migrate with storage=shared",
            field="storage",
        )
    pool = uow.pools.get(vm.pool_id)
    group, _ = group_rule_of_vm(uow, vm)
    needs = placement_request(vm, group)
    allowed = needs.allowed_hosts
    if requested is not None:
        allowed = requested if allowed is None else allowed & requested
    request = replace(needs, allowed_hosts=allowed, excluded_hosts=frozenset({source.name}))
    chosen = place_or_refuse(placement_hosts(uow, pool), request, policy_of(pool))
    target = uow.hosts.get(chosen.id)
    if vm.disk_storage == "shared" and target.shared_disk_path != source.shared_disk_path:
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
        state=MigrationState.QUEUED.value,
        reason=reason,
        bandwidth_mib_s=opts.bandwidth_mib_s,
        max_downtime_ms=opts.max_downtime_ms,
        auto_converge=opts.auto_converge,
        allow_post_copy=opts.allow_post_copy,
        completion_timeout_s_per_gib=opts.completion_timeout_s_per_gib,
        storage=opts.storage,
    )
    return uow.migrations.add(row)


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
                state=MigrationState.FAILED.value,
                reason=reason,
                error=error.message,
                started_at=now,
                finished_at=now,
            )
        )
        uow.events.record(actor, "migration.refused", f"migration/{row.id}", vm=vm.name,
                          error=error.message)  # fmt: skip
        uow.commit()


def cancel_migration(ctx: ServiceContext, migration_id: int, actor: str = "api") -> MigrationView:
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        state = MigrationState(m.state)
        if state.is_final:
            raise InvalidState(f"migration {m.id} already ended ({m.state})", state=m.state)
        if state is MigrationState.QUEUED:
            # Not started: nothing to abort; the claim on the target goes with the state.
            m.state = MigrationState.CANCELLED.value
            m.finished_at = ctx.clock()
            m.error = "cancelled before it started"
        else:
            m.cancel_requested = True  # the worker aborts the libvirt job
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


# --- running --------------------------------------------------------------------------


def dispatch(ctx: ServiceContext) -> list[int]:
    """Move queued migrations to `preparing` within the per-host and per-pool limits."""
    started: list[int] = []
    with ctx.uow() as uow:
        queued = uow.migrations.in_states([MigrationState.QUEUED.value])
        if not queued:
            return started
        busy = uow.migrations.in_states([s.value for s in RUNNING_STATES])
        out: dict[int, int] = {}
        inc: dict[int, int] = {}
        per_pool: dict[int, int] = {}
        for m in busy:
            source_id = _source(m).id
            out[source_id] = out.get(source_id, 0) + 1
            if m.target_host_id is not None:
                inc[m.target_host_id] = inc.get(m.target_host_id, 0) + 1
            per_pool[m.pool_id] = per_pool.get(m.pool_id, 0) + 1
        for m in queued:
            pool = uow.pools.get(m.pool_id)
            target = m.target_host_id
            source_id = _source(m).id
            if (
                target is None
                or out.get(source_id, 0) >= pool.max_migrations_out_per_host
                or inc.get(target, 0) >= pool.max_migrations_in_per_host
                or per_pool.get(m.pool_id, 0) >= pool.max_migrations_per_pool
            ):
                continue
            m.state = MigrationState.PREPARING.value
            out[source_id] = out.get(source_id, 0) + 1
            inc[target] = inc.get(target, 0) + 1
            per_pool[m.pool_id] = per_pool.get(m.pool_id, 0) + 1
            started.append(m.id)
        uow.commit()
    return started


@dataclass(frozen=True)
class _Plan:
    vm_id: int
    vm_uuid: str
    memory_mib: int
    source_uri: str
    target_uri: str
    request: MigrationRequest
    timeout_s: float
    downtimes: list[int]
    allow_post_copy: bool
    disk_path: str | None


def execute(ctx: ServiceContext, migration_id: int, poll_s: float = 0.5) -> None:
    """Run one migration that `dispatch` moved to `preparing`; blocks until it ends."""
    plan = _start(ctx, migration_id)
    if plan is None:
        return
    source = ctx.hypervisors.connect(plan.source_uri)
    outcome: dict[str, VmpoolError] = {}
    if plan.request.copy_storage and plan.disk_path is not None:
        # libvirt creates the copy's target disk itself, in a storage pool holding its folder.
        try:
            ctx.hypervisors.connect(plan.target_uri).prepare_storage(
                str(Path(plan.disk_path).parent)
            )
        except VmpoolError as exc:
            _finish(ctx, migration_id, plan, exc, None, 0)
            return

    def run() -> None:
        try:
            source.migrate(plan.vm_uuid, plan.request)
        except VmpoolError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"migration-{migration_id}", daemon=True)
    t0 = time.monotonic()
    worker.start()

    def ended() -> bool:
        worker.join(poll_s)
        return not worker.is_alive()

    abort_reason = _monitor(ctx, migration_id, plan, source, ended, 0.0)
    total_ms = int((time.monotonic() - t0) * 1000)
    _finish(ctx, migration_id, plan, outcome.get("error"), abort_reason, total_ms)


def watch(ctx: ServiceContext, migration_id: int, poll_s: float = 0.5) -> None:
    """Take over a migration whose libvirt job outlived the vmpool that started it:
    follow its progress, enforce cancel and timeout, and record its outcome."""
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        if m.state != MigrationState.RUNNING.value or m.started_at is None:
            return
        already_s = (ctx.clock() - m.started_at).total_seconds()
        plan = _plan_of(m, uow.vms.get(m.vm_id))
    source = ctx.hypervisors.connect(plan.source_uri)

    def ended() -> bool:
        time.sleep(poll_s)
        try:
            return not source.job_progress(plan.vm_uuid).active
        except DomainMissing:
            return True  # it left the source: the job is over
        except VmpoolError:
            return False  # the source cannot tell right now: ask again

    t0 = time.monotonic()
    abort_reason = _monitor(ctx, migration_id, plan, source, ended, already_s)
    total_ms = int((already_s + time.monotonic() - t0) * 1000)
    _finish(ctx, migration_id, plan, None, abort_reason, total_ms)


def _monitor(
    ctx: ServiceContext,
    migration_id: int,
    plan: _Plan,
    source: Hypervisor,
    ended: Callable[[], bool],
    already_s: float,
) -> str | None:
    """Follow a running job until `ended()`: record progress, raise the allowed downtime in
    steps, and abort on a cancel or at the timeout (or switch to post-copy). Answers why it
    aborted, or None."""
    t0 = time.monotonic() - already_s
    abort_reason: str | None = None
    aborted = False
    post_copy = False
    step = 0
    step_every = plan.timeout_s / (len(plan.downtimes) + 1)
    while not ended():
        elapsed = time.monotonic() - t0
        try:
            progress = source.job_progress(plan.vm_uuid)
        except VmpoolError:
            progress = JobProgress(active=True)
        if step + 1 < len(plan.downtimes) and elapsed >= (step + 1) * step_every:
            step += 1
            _try(partial(source.set_max_downtime, plan.vm_uuid, plan.downtimes[step]))
        cancel = _record_progress(ctx, migration_id, progress, plan.downtimes[step])
        if abort_reason is None and not post_copy:
            if cancel:
                abort_reason = "cancelled"
            elif elapsed > plan.timeout_s and plan.allow_post_copy:
                post_copy = _try(partial(source.start_post_copy, plan.vm_uuid))
                if post_copy:
                    _mark_post_copy(ctx, migration_id)
                else:
                    abort_reason = "timeout: switching to post-copy failed; aborted"
            elif elapsed > plan.timeout_s:
                abort_reason = (
                    f"timeout: not completed within {plan.timeout_s:.0f} s "
                    "(completion_timeout_s_per_gib x guest memory); aborted"
                )
        # libvirt refuses an abort in some phases of the job (e.g. while it starts):
        # ask again at each poll until one is taken.
        if abort_reason is not None and not aborted:
            aborted = _try(partial(source.abort_job, plan.vm_uuid))
    return abort_reason


def _try(action: Callable[[], None]) -> bool:
    try:
        action()
        return True
    except VmpoolError as exc:
        log.warning("migration step failed: %s", exc.message)
        return False


def _plan_of(m: MigrationRow, vm: VmRow) -> _Plan:
    source, target = _source(m), m.target_host
    assert target is not None
    downtimes = downtime_steps(m.max_downtime_ms)
    copy = m.storage == "copy" and vm.disk_path is not None
    return _Plan(
        vm_id=vm.id,
        vm_uuid=vm.uuid,
        memory_mib=vm.memory_mib,
        source_uri=source.uri,
        target_uri=target.uri,
        request=MigrationRequest(
            dest_uri=target.uri,
            data_uri=f"tcp://{migration_address(target)}",
            bandwidth_mib_s=m.bandwidth_mib_s,
            max_downtime_ms=downtimes[0],
            auto_converge=m.auto_converge,
            allow_post_copy=m.allow_post_copy,
            copy_storage=copy,
            disks=(DISK_TARGET,) if copy else (),
            trust_shared_storage=m.storage == "shared" and vm.disk_storage == "shared",
        ),
        timeout_s=completion_timeout_s(vm.memory_mib, m.completion_timeout_s_per_gib),
        downtimes=downtimes,
        allow_post_copy=m.allow_post_copy,
        disk_path=vm.disk_path,
    )


def _start(ctx: ServiceContext, migration_id: int) -> _Plan | None:
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        if m.state != MigrationState.PREPARING.value:
            return None
        vm = m.vm
        source = _source(m)
        if (
            m.cancel_requested
            or VmState(vm.state) is not VmState.RUNNING
            or vm.host_id != source.id
        ):
            m.state = (
                MigrationState.CANCELLED.value
                if m.cancel_requested
                else MigrationState.FAILED.value
            )
            m.error = (
                "cancelled before it started"
                if m.cancel_requested
                else (f"VM is {vm.state} on host {vm.host_id}, no longer running on {source.name}")
            )
            m.finished_at = ctx.clock()
            uow.commit()
            return None
        plan = _plan_of(m, vm)
        m.state = MigrationState.RUNNING.value
        m.started_at = ctx.clock()
        m.current_max_downtime_ms = plan.downtimes[0]
        vm.state = VmState.MIGRATING.value
        vm.state_changed_at = ctx.clock()
        uow.commit()
        return plan


def _record_progress(
    ctx: ServiceContext, migration_id: int, p: JobProgress, max_downtime_ms: int
) -> bool:
    """Write the live figures; answer whether a cancel was asked for."""
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        if p.data_total is not None:
            m.data_total = p.data_total
            m.data_processed = p.data_processed
            m.data_remaining = p.data_remaining
            m.memory_dirty_rate = p.memory_dirty_rate
            m.iteration = p.iteration
        m.current_max_downtime_ms = max_downtime_ms
        cancel = m.cancel_requested
        uow.commit()
        return cancel


def _mark_post_copy(ctx: ServiceContext, migration_id: int) -> None:
    with ctx.uow() as uow:
        uow.migrations.get(migration_id).post_copy = True
        uow.commit()


def _where(ctx: ServiceContext, plan: _Plan) -> tuple[bool | None, bool | None]:
    """(runs on target, runs on source); None where the host cannot tell."""

    def ask(uri: str) -> bool | None:
        try:
            return ctx.hypervisors.connect(uri).is_active(plan.vm_uuid)
        except HostUnreachable:
            return None

    return ask(plan.target_uri), ask(plan.source_uri)


def _finish(
    ctx: ServiceContext,
    migration_id: int,
    plan: _Plan,
    error: VmpoolError | None,
    abort_reason: str | None,
    total_ms: int,
) -> None:
    on_target, on_source = _where(ctx, plan)
    final = JobProgress(active=False)
    if on_target:
        with ctx.uow() as uow:
            uow.migrations.get(migration_id).state = MigrationState.COMPLETING.value
            uow.commit()
        for uri in (plan.target_uri, plan.source_uri):
            try:
                final = ctx.hypervisors.connect(uri).completed_job(plan.vm_uuid)
                break
            except VmpoolError:
                continue
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        vm = uow.vms.get(plan.vm_id)
        now = ctx.clock()
        m.finished_at = now
        m.total_time_ms = total_ms
        vm.state_changed_at = now
        if on_target and not on_source:
            m.state = MigrationState.COMPLETED.value
            m.downtime_ms = final.downtime_ms
            if final.data_total is not None:
                m.data_total, m.data_processed = final.data_total, final.data_processed
                m.data_remaining = final.data_remaining
            m.error = None
            vm.host_id = m.target_host_id
            vm.state = VmState.RUNNING.value
            vm.last_error = None  # an earlier failure is history now
            uow.events.record(
                "migration",
                "migration.completed",
                f"migration/{m.id}",
                vm=vm.name,
                total_time_ms=total_ms,
                downtime_ms=final.downtime_ms,
            )
        else:
            cancelled = abort_reason == "cancelled"
            m.state = (MigrationState.CANCELLED if cancelled else MigrationState.FAILED).value
            m.error = abort_reason or (
                error.message if error else "the VM did not arrive on the target"
            )
            if on_source:
                vm.state = VmState.RUNNING.value
            elif on_source is None:
                vm.state = VmState.RUNNING.value  # unknown: the sync corrects it from the host
                m.error += "; the source host could not be asked where the VM runs"
            else:
                vm.state = VmState.ERROR.value
                vm.last_error = "after a failed migration the VM runs on neither host"
            uow.events.record("migration", f"migration.{m.state}", f"migration/{m.id}",
                              vm=vm.name, error=m.error)  # fmt: skip
        uow.commit()
    if on_target and not on_source and plan.request.copy_storage and plan.disk_path:
        # The disk now lives on the target; the source's copy is stale.
        try:
            ctx.hypervisors.connect(plan.source_uri).delete_volume(plan.disk_path)
        except VmpoolError as exc:
            log.warning("could not remove the old disk %s on the source: %s", plan.disk_path, exc)


# --- settling what nobody watches -------------------------------------------------------


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
                _source(m).uri,
                m.target_host.uri if m.target_host else None,
            )
            for m in uow.migrations.in_states([s.value for s in RUNNING_STATES])
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
            if MigrationState(m.state).is_final or m.id in owned():
                continue
            vm = uow.vms.get(vm_id)
            now = ctx.clock()
            m.finished_at = now
            vm.state_changed_at = now
            if on_target and not on_source:
                m.state = MigrationState.COMPLETED.value
                m.error = None
                vm.host_id = m.target_host_id
                vm.state = VmState.RUNNING.value
            elif on_source and m.state == MigrationState.PREPARING.value:
                m.state = MigrationState.QUEUED.value  # never started: try again
                m.finished_at = None
                vm.state = VmState.RUNNING.value
            else:
                m.state = MigrationState.FAILED.value
                m.error = "interrupted: vmpool stopped during the migration" + (
                    "; the VM stayed on its source"
                    if on_source
                    else "; the VM runs on neither host"
                )
                vm.state = (VmState.RUNNING if on_source else VmState.ERROR).value
            uow.events.record("sync", "migration.settled", f"migration/{mid}", state=m.state)
            uow.commit()
            settled.append(mid)
    return Unowned(settled, still_running)
