"""The reclaim job's use case (docs/lifecycle.md, "Leases and reclaim" and "Idle VMs"):
warn ahead of a lease's end, reclaim the VMs whose lease has ended by their policy, and
apply the pools' idle rule.

Every step goes through the ordinary services (`vm_actions.power_action` to stop,
`vms.delete_vm` to delete, `images.upload_image` for the images snapshot_then_delete
keeps), so each is an audited intent with its own outcome; the job adds `vm.reclaim`
(what it is about to do and why) and `vm.reclaimed` or `vm.reclaim_failed`. A VM that is
busy (a transitional state, a migration, a snapshot being taken, reverted or deleted) is
left for the next run. `now` is the job's clock (tests pass theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vmpool.adapters.db.tables import PoolRow, VmRow
from vmpool.domain import lease
from vmpool.domain.disk import BOOT_TARGET
from vmpool.domain.images import DiskFormat
from vmpool.domain.lease import IdleAction, ReclaimPolicy
from vmpool.domain.vm import VmState
from vmpool.errors import InvalidState, VmpoolError
from vmpool.services import images, vm_actions, vms
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)

ACTOR = "reclaim"  # the audit trail's actor of every step the job takes
# A load figure older than this says nothing about the VM now: no idle decision on it.
LOAD_STALE_S = 300.0
# States in which stopping powers a VM off (a stopped VM is left as it is).
_STOPPABLE = frozenset({VmState.RUNNING, VmState.PAUSED, VmState.CRASHED})


@dataclass
class ReclaimReport:
    warned: dict[int, int] = field(default_factory=dict)  # vm -> threshold (s)
    reclaimed: dict[int, str] = field(default_factory=dict)  # vm -> policy
    skipped: dict[int, str] = field(default_factory=dict)  # vm -> why (retried next run)
    failed: dict[int, str] = field(default_factory=dict)  # vm -> error (retried next run)
    images: dict[int, list[str]] = field(default_factory=dict)  # vm -> images kept
    idle_marked: list[int] = field(default_factory=list)  # under the threshold from now on
    idle_reported: list[int] = field(default_factory=list)  # idle for the pool's period
    idle_cleared: list[int] = field(default_factory=list)  # active again

    def __bool__(self) -> bool:
        return any(
            (self.warned, self.reclaimed, self.skipped, self.failed, self.idle_marked,
             self.idle_reported, self.idle_cleared)
        )  # fmt: skip


def run(
    ctx: ServiceContext, warnings_s: Sequence[int], now: datetime | None = None
) -> ReclaimReport:
    """One run of the job: warnings, expired leases, the idle rule."""
    now = now or ctx.clock()
    report = ReclaimReport()
    warn_expiring(ctx, now, warnings_s, report)
    reclaim_expired(ctx, now, report)
    apply_idle_rule(ctx, now, report)
    return report


# --- leases -------------------------------------------------------------------------


def warn_expiring(
    ctx: ServiceContext, now: datetime, warnings_s: Sequence[int], report: ReclaimReport
) -> None:
    """A `vm.lease_expiring` event once per threshold reached (the nearest one only when a
    VM starts inside several)."""
    thresholds = sorted({int(t) for t in warnings_s if t > 0})
    if not thresholds:
        return
    with ctx.uow() as uow:
        for row in uow.vms.with_lease_ending(now + timedelta(seconds=thresholds[-1])):
            assert row.lease_expires_at is not None
            remaining = (row.lease_expires_at - now).total_seconds()
            if remaining <= 0 or row.vm_state is VmState.DELETING:
                continue
            due = lease.warning_due(remaining, thresholds, row.lease_warned_s)
            if due is None:
                continue
            row.lease_warned_s = due
            uow.events.record(
                ACTOR, "vm.lease_expiring", f"vm/{row.id}", row.project_id, name=row.name,
                expires_at=row.lease_expires_at.isoformat(), seconds_left=int(remaining),
                threshold_s=due, reclaim_policy=row.reclaim_policy,
            )  # fmt: skip
            report.warned[row.id] = due
        uow.commit()


def reclaim_expired(ctx: ServiceContext, now: datetime, report: ReclaimReport) -> None:
    with ctx.uow() as uow:
        due = [
            (r.id, r.uuid)
            for r in uow.vms.with_lease_ending(now + timedelta(microseconds=1))
            if r.vm_state is not VmState.DELETING
        ]
    for vm_id, vm_uuid in due:
        reclaim_vm(ctx, vm_id, vm_uuid, "lease", now, report)


def reclaim_vm(
    ctx: ServiceContext,
    vm_id: int,
    vm_uuid: str,
    reason: str,
    now: datetime,
    report: ReclaimReport,
) -> None:
    """Apply the VM's reclaim policy (`reason`: lease or idle), unless it is busy."""
    with ctx.uow() as uow:
        row = uow.vms.same(vm_id, vm_uuid)
        if row is None:
            return
        policy = _policy_of(uow, row)
        busy = busy_with(uow, row)
        if busy is not None:
            report.skipped[vm_id] = busy
            log.info("reclaim of VM %s waits: %s", row.name, busy)
            return
        state = row.vm_state
        if policy is ReclaimPolicy.STOP and state not in _STOPPABLE:
            if state is not VmState.STOPPED:
                report.skipped[vm_id] = f"it is {state.value}"
            return  # a stopped VM stays as it is, whatever runs come
        uow.events.record(
            ACTOR, "vm.reclaim", f"vm/{vm_id}", row.project_id, name=row.name,
            reclaim_policy=policy.value, reason=reason,
            lease_expires_at=row.lease_expires_at.isoformat() if row.lease_expires_at else None,
        )  # fmt: skip
        name, project_id = row.name, row.project_id
        uow.commit()
    kept: list[str] = []
    try:
        if policy is ReclaimPolicy.STOP:
            vm_actions.power_action(ctx, vm_id, "stop", actor=ACTOR)
        elif policy is ReclaimPolicy.DELETE:
            vms.delete_vm(ctx, vm_id, actor=ACTOR)
        else:
            if state in _STOPPABLE:
                vm_actions.power_action(ctx, vm_id, "stop", actor=ACTOR)
            kept = keep_disks(ctx, vm_id, vm_uuid, now)
            vms.delete_vm(ctx, vm_id, actor=ACTOR)
    except VmpoolError as exc:
        report.failed[vm_id] = exc.message
        log.warning("reclaim of VM %s failed: %s", name, exc.message)
        with ctx.uow() as uow:
            uow.events.record(
                ACTOR, "vm.reclaim_failed", f"vm/{vm_id}", project_id, name=name,
                reclaim_policy=policy.value, reason=reason, error=exc.message[:500],
            )  # fmt: skip
            uow.commit()
        return
    with ctx.uow() as uow:
        uow.events.record(
            ACTOR, "vm.reclaimed", f"vm/{vm_id}", project_id, name=name,
            reclaim_policy=policy.value, reason=reason, images=kept,
        )  # fmt: skip
        uow.commit()
    report.reclaimed[vm_id] = policy.value
    if kept:
        report.images[vm_id] = kept


def _policy_of(uow: UnitOfWork, row: VmRow) -> ReclaimPolicy:
    if row.reclaim_policy is not None:
        return lease.reclaim_policy(row.reclaim_policy)
    return lease.reclaim_policy(uow.pools.get(row.pool_id).default_reclaim_policy)


def busy_with(uow: UnitOfWork, row: VmRow) -> str | None:
    """Why the VM cannot be reclaimed now (it is retried at the next run), if it cannot."""
    if row.vm_state.is_transitional:
        return f"it is {row.state}"
    if uow.migrations.active_for_vm(row.id) is not None:
        return "a migration of it is under way"
    snapshot = uow.vms.snapshot_busy(row.id)
    if snapshot is not None:
        return f"a snapshot of it is {snapshot}"
    return None


# --- snapshot_then_delete ---------------------------------------------------------------


def keep_disks(ctx: ServiceContext, vm_id: int, vm_uuid: str, now: datetime) -> list[str]:
    """Each disk of the stopped VM as a new catalog image of its project
    (`<vm>-<disk>-reclaimed-<yyyymmddhhmm>`): a standalone copy made on its host (the
    overlay's chain flattened), read into the image store, the copy deleted. Answers the
    images' names; on any failure the images made so far are deleted and it raises (the VM
    stays, stopped)."""
    with ctx.uow() as uow:
        row = vms.same_vm(uow, vm_id, vm_uuid)
        if row.vm_state is not VmState.STOPPED:
            raise InvalidState(f"VM {row.name} is {row.state}, not stopped: its disks stay")
        host = uow.hosts.get(row.host_id) if row.host_id is not None else None
        if host is None:
            raise InvalidState(f"VM {row.name} has no host")
        disks = [(BOOT_TARGET, row.disk_path)] if row.disk_path else []
        disks += [(d.target, d.path) for d in uow.disks.of_vm(vm_id) if d.path]
        if not disks:
            raise InvalidState(f"VM {row.name} has no disk to keep")
        name, project_id, uri = row.name, row.project_id, host.uri
        folder = host.local_disk_path or ctx.default_local_disk_path
    hv = ctx.hypervisors.connect(uri)
    made: list[int] = []
    names: list[str] = []
    try:
        for target, path in disks:
            assert path is not None
            image_name = lease.reclaimed_image_name(name, target, now)
            copy = hv.clone_volume(path, folder, f"reclaim-{vm_uuid}-{target}")
            try:
                image = images.upload_image(
                    ctx, image_name, DiskFormat.QCOW2, None, hv.read_volume(copy),
                    actor=ACTOR, project_id=project_id,
                )  # fmt: skip
            finally:
                hv.delete_volume(copy)
            made.append(image.id)
            names.append(image.name)
    except BaseException:
        for image_id in made:
            try:
                images.delete_image(ctx, image_id, actor=ACTOR)
            except VmpoolError:
                log.warning("could not remove image %s of a failed reclaim", image_id)
        raise
    return names


# --- the idle rule -----------------------------------------------------------------------


def apply_idle_rule(ctx: ServiceContext, now: datetime, report: ReclaimReport) -> None:
    """For each pool with an idle rule: mark a running VM whose smoothed CPU is under the
    threshold (`idle_since`), report it once it has stayed there for the pool's period
    (`vm.idle`, `idle_warned_at`), with idle_action reclaim warn
    (`vm.idle_reclaim_warning`) and reclaim it by its policy idle_warning_s later if it is
    still idle. Activity clears the marks (and so a warning)."""
    to_reclaim: list[tuple[int, str]] = []
    with ctx.uow() as uow:
        pools = {p.id: p for p in uow.pools.list() if p.idle_cpu_percent is not None}
        for row in uow.vms.idle_marked():
            if row.pool_id not in pools:
                _clear_idle(uow, row, "the pool has no idle rule", report)
        rows = uow.vms.in_pools(pools)
        loads = uow.load.all_of("vm", [r.id for r in rows])
        for row in rows:
            pool = pools[row.pool_id]
            if row.vm_state is not VmState.RUNNING:
                if row.idle_since is not None and not row.vm_state.is_transitional:
                    _clear_idle(uow, row, f"it is {row.state}", report)
                continue
            load = loads.get(row.id)
            if (
                load is None
                or load.cpu_usage_avg is None
                or (now - load.sampled_at).total_seconds() > LOAD_STALE_S
            ):
                continue  # no recent figure: nothing is decided
            percent = load.cpu_usage_avg * 100.0
            if percent >= (pool.idle_cpu_percent or 0.0):
                if row.idle_since is not None:
                    _clear_idle(uow, row, f"its CPU is {percent:.1f} %", report)
                continue
            if _idle_step(uow, row, pool, percent, now, report):
                to_reclaim.append((row.id, row.uuid))
        uow.commit()
    for vm_id, vm_uuid in to_reclaim:
        reclaim_vm(ctx, vm_id, vm_uuid, "idle", now, report)


def _idle_step(
    uow: UnitOfWork, row: VmRow, pool: PoolRow, percent: float, now: datetime,
    report: ReclaimReport,
) -> bool:  # fmt: skip
    """A running VM under the threshold: its next idle step; True if it is to be reclaimed."""
    if row.idle_since is None:
        row.idle_since = now
        report.idle_marked.append(row.id)
        return False
    if row.idle_warned_at is None:
        if (now - row.idle_since).total_seconds() < pool.idle_period_s:
            return False
        row.idle_warned_at = now
        report.idle_reported.append(row.id)
        uow.events.record(
            ACTOR, "vm.idle", f"vm/{row.id}", row.project_id, name=row.name,
            idle_since=row.idle_since.isoformat(), cpu_percent=round(percent, 2),
            threshold_percent=pool.idle_cpu_percent, idle_action=pool.idle_action,
        )  # fmt: skip
        if lease.idle_action(pool.idle_action) is IdleAction.RECLAIM:
            at = now + timedelta(seconds=pool.idle_warning_s)
            uow.events.record(
                ACTOR, "vm.idle_reclaim_warning", f"vm/{row.id}", row.project_id,
                name=row.name, reclaim_at=at.isoformat(),
                reclaim_policy=row.reclaim_policy or pool.default_reclaim_policy,
            )  # fmt: skip
        return False
    if lease.idle_action(pool.idle_action) is not IdleAction.RECLAIM:
        return False
    return (now - row.idle_warned_at).total_seconds() >= pool.idle_warning_s


def _clear_idle(uow: UnitOfWork, row: VmRow, why: str, report: ReclaimReport) -> None:
    if row.idle_warned_at is not None:
        uow.events.record(
            ACTOR, "vm.idle_cleared", f"vm/{row.id}", row.project_id, name=row.name, why=why
        )
    row.idle_since = None
    row.idle_warned_at = None
    report.idle_cleared.append(row.id)
