"""Running a queued migration: dispatch within the limits, start libvirt's job, follow its
progress (raise the allowed downtime in steps, abort on cancel or timeout, or switch to
post-copy), and record the outcome from where the VM runs afterwards.

libvirt's managed peer-to-peer migration goes on if vmpool dies; `watch` takes such a job
over, and `migration_recovery` settles one that ended while nobody watched. A daemon that
stops gracefully does the same on purpose: `leaving()` turns true, and the migrations it
follows are left to libvirt as they are (the next start watches them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from vmpool.adapters.db.tables import MigrationRow, VmRow
from vmpool.domain.migration import RUNNING_MIGRATION_STATES, MigrationState
from vmpool.domain.model import completion_timeout_s, downtime_steps
from vmpool.domain.ports import Hypervisor, JobProgress, MigrationRequest
from vmpool.domain.snapshot import snapshot_migration_blocker
from vmpool.domain.vm import VmState
from vmpool.errors import DomainMissing, HostUnreachable, VmpoolError
from vmpool.services import cpu_pins
from vmpool.services.migration_disks import (
    VolumeCopy,
    copies_of,
    prepare_target,
    remove_volumes,
    seed_of,
    shared_base,
)
from vmpool.services.migrations import migration_address, source_of, storage_of
from vmpool.services.snapshots import (
    SnapshotRecord,
    records_of,
    restore_records,
    strip_records,
)
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


def dispatch(ctx: ServiceContext) -> list[int]:
    """Move queued migrations to `preparing` within the per-host and per-pool limits."""
    started: list[int] = []
    with ctx.uow() as uow:
        ctx.check_leader(uow)
        queued = uow.migrations.in_states([MigrationState.QUEUED.value])
        if not queued:
            return started
        busy = uow.migrations.in_states([s.value for s in RUNNING_MIGRATION_STATES])
        out: dict[int, int] = {}
        inc: dict[int, int] = {}
        per_pool: dict[int, int] = {}
        for m in busy:
            source_id = source_of(m).id
            out[source_id] = out.get(source_id, 0) + 1
            if m.target_host_id is not None:
                inc[m.target_host_id] = inc.get(m.target_host_id, 0) + 1
            per_pool[m.pool_id] = per_pool.get(m.pool_id, 0) + 1
        for m in queued:
            pool = uow.pools.get(m.pool_id)
            target = m.target_host_id
            source_id = source_of(m).id
            if (
                target is None
                or out.get(source_id, 0) >= pool.max_migrations_out_per_host
                or inc.get(target, 0) >= pool.max_migrations_in_per_host
                or per_pool.get(m.pool_id, 0) >= pool.max_migrations_per_pool
            ):
                continue
            m.dispatch()
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
    source_host_id: int
    target_host_id: int
    copies: tuple[VolumeCopy, ...]  # local disks, copied to volumes made on the target first
    shared_image: int | None  # the base of a boot disk on shared storage
    seed: tuple[str, str] | None  # (VM UUID, path) of its first-boot seed
    # libvirt's records of its snapshots (shared storage only: a copy is refused), moved
    # to the target around the migration (services/snapshots.py).
    snapshots: tuple[SnapshotRecord, ...] = ()


class _Left(Exception):
    """The daemon stops: the job is left to libvirt, its record to the next start."""


def _staying() -> bool:
    return False


def execute(
    ctx: ServiceContext,
    migration_id: int,
    poll_s: float = 0.5,
    leaving: Callable[[], bool] = _staying,
) -> None:
    """Run one migration that `dispatch` moved to `preparing`; blocks until it ends, or
    until `leaving()` (the daemon stops: libvirt carries the job on)."""
    plan = _start(ctx, migration_id)
    if plan is None:
        return
    outcome: dict[str, VmpoolError] = {}
    current: str | None = None
    try:
        source = ctx.hypervisors.connect(plan.source_uri)
        prepare_target(
            ctx,
            plan.source_host_id,
            plan.target_host_id,
            plan.copies,
            plan.shared_image,
            plan.seed,
        )
        current = strip_records(source, plan.vm_uuid, plan.snapshots)
    except VmpoolError as exc:
        restore_records(ctx, plan.source_uri, plan.vm_uuid, plan.snapshots, current)
        _not_started(ctx, migration_id, plan, exc)
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

    try:
        abort_reason = _monitor(ctx, migration_id, plan, source, ended, 0.0, leaving)
    except _Left:
        log.info("migration %s left running in libvirt: the next start follows it", migration_id)
        return
    total_ms = int((time.monotonic() - t0) * 1000)
    _finish(ctx, migration_id, plan, outcome.get("error"), abort_reason, total_ms, current)


def watch(
    ctx: ServiceContext,
    migration_id: int,
    poll_s: float = 0.5,
    leaving: Callable[[], bool] = _staying,
) -> None:
    """Take over a migration whose libvirt job outlived the vmpool that started it:
    follow its progress, enforce cancel and timeout, and record its outcome (unless
    `leaving()` first)."""
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        if m.migration_state is not MigrationState.RUNNING or m.started_at is None:
            return
        already_s = (ctx.clock() - m.started_at).total_seconds()
        plan = _plan_of(uow, m, uow.vms.get(m.vm_id))
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
    try:
        abort_reason = _monitor(ctx, migration_id, plan, source, ended, already_s, leaving)
    except _Left:
        log.info("migration %s left running in libvirt: the next start follows it", migration_id)
        return
    total_ms = int((already_s + time.monotonic() - t0) * 1000)
    _finish(ctx, migration_id, plan, None, abort_reason, total_ms)


def _monitor(
    ctx: ServiceContext,
    migration_id: int,
    plan: _Plan,
    source: Hypervisor,
    ended: Callable[[], bool],
    already_s: float,
    leaving: Callable[[], bool] = _staying,
) -> str | None:
    """Follow a running job until `ended()`: record progress, raise the allowed downtime in
    steps, and abort on a cancel or at the timeout (or switch to post-copy). Answers why it
    aborted, or None; raises `_Left` once `leaving()` (nothing more is asked of libvirt)."""
    t0 = time.monotonic() - already_s
    abort_reason: str | None = None
    aborted = False
    post_copy = False
    step = 0
    step_every = plan.timeout_s / (len(plan.downtimes) + 1)
    while not ended():
        if leaving():
            raise _Left
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


def _plan_of(uow: UnitOfWork, m: MigrationRow, vm: VmRow) -> _Plan:
    source, target = source_of(m), m.target_host
    assert target is not None
    downtimes = downtime_steps(m.max_downtime_ms)
    copies = copies_of(uow, vm) if m.storage == "copy" else ()
    return _Plan(
        vm_id=vm.id,
        vm_uuid=vm.uuid,
        memory_mib=vm.memory_mib,
        source_uri=source.uri,
        target_uri=target.uri,
        request=MigrationRequest(
            dest_uri=target.peer_uri or target.uri,
            data_uri=f"tcp://{migration_address(target)}",
            bandwidth_mib_s=m.bandwidth_mib_s,
            max_downtime_ms=downtimes[0],
            auto_converge=m.auto_converge,
            allow_post_copy=m.allow_post_copy,
            copy_storage=bool(copies),
            disks=tuple(c.target for c in copies),
            # The operator declared the shared folder shared by the hosts: libvirt cannot tell
            # (its disks are not copied, whatever the local ones do).
            trust_shared_storage=storage_of(uow, vm)[1],
            tls=uow.pools.get(vm.pool_id).migration_tls,
            dest_cpus=cpu_pins.dest_cpus(uow, vm, target.id),  # a dedicated VM's, recorded
        ),
        timeout_s=completion_timeout_s(vm.memory_mib, m.completion_timeout_s_per_gib),
        downtimes=downtimes,
        allow_post_copy=m.allow_post_copy,
        source_host_id=source.id,
        target_host_id=target.id,
        copies=copies,
        shared_image=shared_base(vm),
        seed=seed_of(vm),
        snapshots=records_of(uow, vm.id),
    )


def _start(ctx: ServiceContext, migration_id: int) -> _Plan | None:
    with ctx.uow() as uow:
        ctx.check_leader(uow)
        m = uow.migrations.get(migration_id)
        if m.migration_state is not MigrationState.PREPARING:
            return None
        vm = m.vm
        source = source_of(m)
        now = ctx.clock()
        if m.cancel_requested:
            m.cancel(now, "cancelled before it started")
        elif vm.vm_state is not VmState.RUNNING or vm.host_id != source.id:
            where = f"VM is {vm.state} on host {vm.host_id}"
            m.fail(now, f"{where}, no longer running on {source.name}")
        elif (
            why := snapshot_migration_blocker(vm.name, uow.snapshots.count_of_vm(vm.id), m.storage)
        ) is not None:
            m.fail(now, why)  # a snapshot taken since it was queued
        elif (why := vm.hardware_migration_blocker()) is not None:
            m.fail(now, why)  # queued before the rule (an upgrade): never started
        elif (why := cpu_pins.target_pins_missing(uow, vm, m)) is not None:
            m.fail(now, why)  # queued before dedicated VMs moved (an upgrade)
        else:
            plan = _plan_of(uow, m, vm)
            m.start(now, plan.downtimes[0])
            vm.begin_migration(now)
            uow.commit()
            return plan
        cpu_pins.settle_migration(uow, m)
        uow.commit()
        return None


def _record_progress(
    ctx: ServiceContext, migration_id: int, p: JobProgress, max_downtime_ms: int
) -> bool:
    """Write the live figures; answer whether a cancel was asked for."""
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        m.record_progress(p, max_downtime_ms)
        cancel = m.cancel_requested
        uow.commit()
        return cancel


def _mark_post_copy(ctx: ServiceContext, migration_id: int) -> None:
    with ctx.uow() as uow:
        uow.migrations.get(migration_id).switch_to_post_copy()
        uow.commit()


def _where(ctx: ServiceContext, plan: _Plan) -> tuple[bool | None, bool | None]:
    """(runs on target, runs on source); None where the host cannot tell."""

    def ask(uri: str) -> bool | None:
        try:
            return ctx.hypervisors.connect(uri).is_active(plan.vm_uuid)
        except HostUnreachable:
            return None

    return ask(plan.target_uri), ask(plan.source_uri)


def _not_started(ctx: ServiceContext, migration_id: int, plan: _Plan, error: VmpoolError) -> None:
    """libvirt's job was never started: the VM did not move."""
    with ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        vm = uow.vms.get(plan.vm_id)
        now = ctx.clock()
        m.fail(now, f"not started: {error.message}", 0)
        cpu_pins.settle_migration(uow, m)
        if vm.vm_state is VmState.MIGRATING:
            vm.stay(now)
        uow.events.record("migration", "migration.failed", f"migration/{m.id}",
                          vm=vm.name, error=m.error)  # fmt: skip
        uow.commit()


def _finish(
    ctx: ServiceContext,
    migration_id: int,
    plan: _Plan,
    error: VmpoolError | None,
    abort_reason: str | None,
    total_ms: int,
    current: str | None = None,
) -> None:
    on_target, on_source = _where(ctx, plan)
    if plan.snapshots and (on_target or on_source):
        # The snapshots' records go where the domain is (their data is in the volumes).
        landed = plan.target_uri if on_target and not on_source else plan.source_uri
        last = plan.snapshots[-1].libvirt_name
        restore_records(ctx, landed, plan.vm_uuid, plan.snapshots, current or last)
    if on_target is None and not on_source:
        # It left the source (or the source cannot tell) and the target cannot say whether
        # it runs there: recording a failure could be false. Left running, unowned once
        # this returns: `migration_recovery` settles it when the hosts answer again.
        log.warning(
            "migration %s ended but its target cannot be asked where the VM runs; "
            "it is settled once the hosts answer",
            migration_id,
        )
        return
    final = JobProgress(active=False)
    if on_target:
        with ctx.uow() as uow:
            ctx.check_leader(uow)
            uow.migrations.get(migration_id).begin_completing()
            uow.commit()
        for uri in (plan.target_uri, plan.source_uri):
            try:
                final = ctx.hypervisors.connect(uri).completed_job(plan.vm_uuid)
                break
            except VmpoolError:
                continue
    with ctx.uow() as uow:
        ctx.check_leader(uow)  # a deposed leader leaves the outcome to the new one
        m = uow.migrations.get(migration_id)
        vm = uow.vms.get(plan.vm_id)
        now = ctx.clock()
        if on_target and not on_source:
            m.complete(now, final, total_ms)
            vm.arrive(m.target_host_id, now)
            uow.events.record(
                "migration",
                "migration.completed",
                f"migration/{m.id}",
                vm=vm.name,
                total_time_ms=total_ms,
                downtime_ms=final.downtime_ms,
            )
        else:
            why = abort_reason or (
                error.message if error else "the VM did not arrive on the target"
            )
            if on_source is None:
                why += "; the source host could not be asked where the VM runs"
            if abort_reason == "cancelled":
                m.cancel(now, why, total_ms)
            else:
                m.fail(now, why, total_ms)
            if vm.vm_state is not VmState.MIGRATING:
                pass  # never marked migrating (it failed before the job started)
            elif on_source is False:
                vm.lose(now, "after a failed migration the VM runs on neither host")
            else:
                vm.stay(now)  # when unknown: the sync corrects it from the host
            uow.events.record("migration", f"migration.{m.state}", f"migration/{m.id}",
                              vm=vm.name, error=m.error)  # fmt: skip
        cpu_pins.settle_migration(uow, m)  # dedicated CPUs: only where it runs stay
        uow.commit()
        outcome, took_ms, downtime_ms = m.state, m.total_time_ms, m.downtime_ms
    ctx.metrics.migration_finished(
        outcome,
        took_ms / 1000 if took_ms is not None else None,
        downtime_ms / 1000 if downtime_ms is not None and outcome == "completed" else None,
    )
    paths = [c.path for c in plan.copies] + ([plan.seed[1]] if plan.seed else [])
    if on_target and not on_source:
        remove_volumes(ctx, plan.source_uri, paths)  # the disks live on the target now
    elif on_source and not on_target:
        remove_volumes(ctx, plan.target_uri, paths)  # the copies made for it are not used
