"""A VM's snapshots: take, list, read, revert, delete (domain/snapshot.py has the rules).

Each change writes its intent first (`creating` with its claim on the host's disk and the
project's snapshot quota, under the pool's and the project's locks; `reverting`;
`deleting`), then calls libvirt, then records the outcome. A failure undoes what it did: a
snapshot libvirt did not take leaves no record and no claim. libvirt only ever sees
vmpool's own name for a snapshot (`vmpool-snap-<hex>`); the client's name and description
stay in the database.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from vmpool.adapters.db.tables import SnapshotRow, VmRow
from vmpool.adapters.hypervisor.domain_xml import snapshot_sizes
from vmpool.domain.hypervisor_features import SNAPSHOTS
from vmpool.domain.model import PlacementRequirements
from vmpool.domain.names import validate_name
from vmpool.domain.placement import place_or_refuse
from vmpool.domain.ports import Hypervisor
from vmpool.domain.snapshot import (
    SnapshotState,
    check_description,
    check_disks,
    check_revert_sizes,
    check_vm_snapshot_free,
    libvirt_snapshot_name,
    snapshot_mode,
    snapshot_size_gib,
)
from vmpool.domain.vm import OBSERVE_FROM, VmState
from vmpool.errors import DomainMissing, InvalidState, QuotaExceeded, VmpoolError
from vmpool.services.hosts import require_reachable
from vmpool.services.migrations import storage_of
from vmpool.services.placement_hosts import (
    check_shared_room_in,
    placement_hosts,
    policy_of,
    require_host_feature,
)
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotView:
    id: int
    vm_id: int
    name: str
    description: str
    with_memory: bool
    size_gib: int
    state: str
    last_error: str | None
    created_by: str
    created_at: datetime


def snapshot_view(row: SnapshotRow) -> SnapshotView:
    return SnapshotView(
        id=row.id,
        vm_id=row.vm_id,
        name=row.name,
        description=row.description,
        with_memory=row.with_memory,
        size_gib=row.size_gib,
        state=row.state,
        last_error=row.last_error,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _disk_formats(uow: UnitOfWork, vm: VmRow) -> list[str]:
    """The formats of the VM's writable disks: its boot disk (a qcow2 overlay) and its
    data disks (qcow2); the first-boot seed is a read-only CD-ROM, outside snapshots."""
    formats = ["qcow2"] if vm.disk_path else []
    return formats + ["qcow2" for _ in uow.disks.of_vm(vm.id)]


def _disk_gib(uow: UnitOfWork, vm: VmRow) -> int:
    return (vm.disk_gib if vm.disk_path else 0) + sum(d.size_gib for d in uow.disks.of_vm(vm.id))


def _check_busy(uow: UnitOfWork, vm: VmRow) -> None:
    check_vm_snapshot_free(vm.name, uow.vms.snapshot_busy(vm.id) is not None)


def _claim(uow: UnitOfWork, vm: VmRow, size_gib: int) -> None:
    """Under the project's and the pool's locks: refuse (409, per quota or per filter) a
    snapshot past the project's snapshot quota or the room on the VM's storage."""
    project = uow.projects.get_for_update(vm.project_id)
    if project.quota_snapshots is not None:
        used = uow.snapshots.count_of_project(vm.project_id)
        if used + 1 > project.quota_snapshots:
            raise QuotaExceeded(
                f"project {project.name} would exceed its snapshots quota: {used} used + 1 "
                f"asked > {project.quota_snapshots}",
                quota="snapshots", limit=project.quota_snapshots, used=used, asked=1,
            )  # fmt: skip
    uow.pools.get_for_update(vm.pool_id)
    if vm.host_id is None:
        raise InvalidState(f"VM {vm.name} has no host")
    host = require_reachable(uow.hosts.get(vm.host_id))
    require_host_feature(host, SNAPSHOTS, f"snapshot VM {vm.name}")
    has_local, _ = storage_of(uow, vm)
    if not has_local:  # all its disks on shared storage: so is the snapshot
        check_shared_room_in(uow, vm.pool_id, size_gib)
        return
    pool = uow.pools.get(vm.pool_id)
    request = PlacementRequirements(
        vcpus=0, memory_mib=0, disk_gib=size_gib, allowed_hosts=frozenset({host.name})
    )
    place_or_refuse(placement_hosts(uow, pool), request, policy_of(pool))


def create_snapshot(
    ctx: ServiceContext,
    vm_id: int,
    name: str,
    description: str = "",
    include_memory: bool | None = None,
    actor: str = "api",
) -> SnapshotView:
    validate_name(name, "name")
    check_description(description)
    # 1. Intent and claim.
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        with_memory = snapshot_mode(vm.name, vm.state, include_memory)
        check_disks(vm.name, _disk_formats(uow, vm))
        _check_busy(uow, vm)
        if uow.migrations.active_for_vm(vm.id) is not None:
            raise InvalidState(f"VM {vm.name} is being migrated: snapshot it when it has moved")
        size = snapshot_size_gib(_disk_gib(uow, vm), vm.memory_mib, with_memory)
        _claim(uow, vm, size)
        now = ctx.clock()
        row = uow.snapshots.add(
            SnapshotRow(
                vm_id=vm_id, name=name, description=description,
                libvirt_name=libvirt_snapshot_name(uuidlib.uuid4().hex), with_memory=with_memory,
                size_gib=size, state=SnapshotState.CREATING.value, state_changed_at=now,
                created_by=actor, created_at=now,
            )
        )  # fmt: skip
        uow.events.record(actor, "snapshot.create", f"vm/{vm_id}", snapshot=row.id,
                          name=name, with_memory=with_memory, size_gib=size)  # fmt: skip
        snap_id, lv_name, vm_uuid = row.id, row.libvirt_name, vm.uuid
        uri = uow.hosts.get(vm.host_id).uri  # type: ignore[arg-type]  # _claim checked it
        uow.commit()
    # 2. libvirt.
    hv = ctx.hypervisors.connect(uri)
    try:
        xml = hv.create_snapshot(vm_uuid, lv_name, with_memory)
    except VmpoolError as exc:
        try:
            hv.delete_snapshot(vm_uuid, lv_name)  # half-made: nothing left behind
        except VmpoolError:
            log.warning("could not remove snapshot %s of a failed create", lv_name)
        with ctx.uow() as uow:
            gone = uow.snapshots.find(snap_id)
            if gone is not None:
                uow.snapshots.delete(gone)  # and so its claim
            uow.events.record(actor, "snapshot.create_failed", f"vm/{vm_id}",
                              snapshot=snap_id, error=exc.message)  # fmt: skip
            uow.commit()
        raise
    # 3. Outcome.
    with ctx.uow() as uow:
        row = uow.snapshots.get(vm_id, snap_id)
        row.xml = xml
        row.taken(ctx.clock())
        uow.events.record(actor, "snapshot.created", f"vm/{vm_id}", snapshot=snap_id)
        view = snapshot_view(row)
        uow.commit()
        return view


def revert_snapshot(
    ctx: ServiceContext, vm_id: int, snapshot_id: int, actor: str = "api"
) -> SnapshotView:
    """The VM back to the snapshot: running where it was if the snapshot holds memory;
    with its disks as they were, and stopped, if it holds only the disks."""
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        row = uow.snapshots.get(vm_id, snapshot_id, for_update=True)
        snapshot_mode(vm.name, vm.state, None)  # running or stopped, nothing else
        _check_busy(uow, vm)
        if uow.migrations.active_for_vm(vm.id) is not None:
            raise InvalidState(f"VM {vm.name} is being migrated: revert when it has moved")
        if vm.host_id is None:
            raise InvalidState(f"VM {vm.name} has no host")
        host = require_reachable(uow.hosts.get(vm.host_id))
        recorded = snapshot_sizes(row.xml) if row.xml else None
        check_revert_sizes(vm.name, row.name, recorded, (vm.vcpus, vm.memory_mib))
        row.begin_revert(ctx.clock())
        uow.events.record(actor, "snapshot.revert", f"vm/{vm_id}", snapshot=snapshot_id,
                          name=row.name)  # fmt: skip
        vm_uuid, uri, lv_name = vm.uuid, host.uri, row.libvirt_name
        uow.commit()
    hv = ctx.hypervisors.connect(uri)
    error: VmpoolError | None = None
    try:
        hv.revert_snapshot(vm_uuid, lv_name)
    except VmpoolError as exc:
        error = exc
    reported: VmState | None = None
    try:
        reported = VmState(hv.domain(vm_uuid).state)
    except VmpoolError:
        log.warning("could not read the state of VM %s after a revert", vm_id)
    with ctx.uow() as uow:
        row = uow.snapshots.get(vm_id, snapshot_id)
        if error is None:
            row.reverted(ctx.clock())
        else:
            row.reverted(ctx.clock())  # the snapshot itself is intact: revert again
            row.last_error = f"revert failed: {error.message}"
        vm = uow.vms.get(vm_id)
        if reported is not None and vm.vm_state in OBSERVE_FROM:
            vm.observe(reported, ctx.clock())
        uow.events.record(actor, "snapshot.reverted" if error is None else
                          "snapshot.revert_failed", f"vm/{vm_id}", snapshot=snapshot_id,
                          vm_state=vm.state)  # fmt: skip
        view = snapshot_view(row)
        uow.commit()
    if error is not None:
        raise error
    return view


def delete_snapshot(ctx: ServiceContext, vm_id: int, snapshot_id: int, actor: str = "api") -> None:
    """libvirt deletes it (its data in the volumes and its record), then vmpool's record
    and its claim go."""
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        row = uow.snapshots.get(vm_id, snapshot_id, for_update=True)
        if row.snapshot_state in (SnapshotState.CREATING, SnapshotState.REVERTING):
            raise InvalidState(
                f"snapshot {row.name} is {row.state}: delete it when that is done",
                state=row.state,
            )
        if vm.host_id is None:
            raise InvalidState(f"VM {vm.name} has no host")
        host = require_reachable(uow.hosts.get(vm.host_id))
        row.begin_delete(ctx.clock())
        uow.events.record(actor, "snapshot.delete", f"vm/{vm_id}", snapshot=snapshot_id,
                          name=row.name)  # fmt: skip
        vm_uuid, uri, lv_name = vm.uuid, host.uri, row.libvirt_name
        uow.commit()
    try:
        ctx.hypervisors.connect(uri).delete_snapshot(vm_uuid, lv_name)
    except DomainMissing:
        pass  # the domain is gone, and its snapshots with it
    except VmpoolError as exc:
        with ctx.uow() as uow:
            row = uow.snapshots.get(vm_id, snapshot_id)
            row.delete_failed(ctx.clock(), f"delete failed: {exc.message}")
            uow.commit()
        raise
    with ctx.uow() as uow:
        gone = uow.snapshots.find(snapshot_id)
        if gone is not None:
            uow.snapshots.delete(gone)
        uow.events.record(actor, "snapshot.deleted", f"vm/{vm_id}", snapshot=snapshot_id)
        uow.commit()


def list_snapshots(ctx: ServiceContext, vm_id: int) -> list[SnapshotView]:
    with ctx.uow() as uow:
        uow.vms.get(vm_id)
        return [snapshot_view(s) for s in uow.snapshots.of_vm(vm_id)]


def get_snapshot(ctx: ServiceContext, vm_id: int, snapshot_id: int) -> SnapshotView:
    with ctx.uow() as uow:
        uow.vms.get(vm_id)
        return snapshot_view(uow.snapshots.get(vm_id, snapshot_id))


# --- crash recovery -------------------------------------------------------------------


@dataclass(frozen=True)
class _Stale:
    snapshot_id: int
    state: SnapshotState
    vm_uuid: str
    uri: str
    libvirt_name: str


def settle_stale(ctx: ServiceContext) -> list[int]:
    """Snapshot changes left mid-way (vmpool stopped between intent and outcome), settled
    from what libvirt has once the intent is older than `stale_intent_s`:

    - `creating`: libvirt has it: `ready` (its XML read again); it has not: the record
      and its claim go.
    - `reverting`: back to `ready` (the snapshot itself is intact either way); the VM's
      state is the sync's to observe.
    - `deleting`: finished (libvirt's delete again, then the record).

    Answers the ids of the snapshots it settled."""
    before = ctx.clock() - timedelta(seconds=ctx.stale_intent_s)
    with ctx.uow() as uow:
        stale: list[_Stale] = []
        for row in uow.snapshots.changing_since_before(before):
            vm = uow.vms.get(row.vm_id)
            host = uow.hosts.find(vm.host_id) if vm.host_id is not None else None
            if host is None or host.silent:
                continue
            stale.append(_Stale(row.id, row.snapshot_state, vm.uuid, host.uri, row.libvirt_name))
    settled: list[int] = []
    for s in stale:
        hv = ctx.hypervisors.connect(s.uri)
        xml: str | None = None
        try:
            if s.state is SnapshotState.DELETING:
                hv.delete_snapshot(s.vm_uuid, s.libvirt_name)
            elif s.state is SnapshotState.CREATING:
                exists = s.libvirt_name in hv.snapshot_names(s.vm_uuid)
                xml = hv.snapshot_xml(s.vm_uuid, s.libvirt_name) if exists else None
        except DomainMissing:
            pass  # the domain is gone: so is the snapshot
        except VmpoolError as exc:
            log.warning("snapshot %s not settled yet: %s", s.libvirt_name, exc.message)
            continue
        with ctx.uow() as uow:
            found = uow.snapshots.find(s.snapshot_id)
            if found is None or found.state_changed_at >= before:
                continue  # gone, or taken up again meanwhile
            if s.state is SnapshotState.REVERTING:
                found.reverted(ctx.clock())
            elif s.state is SnapshotState.CREATING and xml is not None:
                found.xml = xml
                found.taken(ctx.clock())
            else:
                uow.snapshots.delete(found)
            uow.events.record("sync", "snapshot.settled", f"snapshot/{s.snapshot_id}",
                              was=s.state.value)  # fmt: skip
            uow.commit()
        settled.append(s.snapshot_id)
    return settled


# --- migration (shared storage: the records move, the data stays in the volumes) -------


@dataclass(frozen=True)
class SnapshotRecord:
    """libvirt's record of one snapshot, to define again where the domain goes."""

    libvirt_name: str
    xml: str


def records_of(uow: UnitOfWork, vm_id: int) -> tuple[SnapshotRecord, ...]:
    """The records of the VM's snapshots, oldest first (a parent before its children)."""
    return tuple(
        SnapshotRecord(s.libvirt_name, s.xml)
        for s in uow.snapshots.of_vm(vm_id)
        if s.xml is not None and s.snapshot_state is SnapshotState.READY
    )


def strip_records(hv: Hypervisor, vm_uuid: str, records: tuple[SnapshotRecord, ...]) -> str | None:
    """Remove libvirt's records only (VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY; the data stays
    in the volumes): libvirt refuses to migrate a domain that has any. Answers the name of
    the current one, to make it current again where the domain lands."""
    current = hv.current_snapshot(vm_uuid) if records else None
    for r in reversed(records):  # children first
        hv.delete_snapshot(vm_uuid, r.libvirt_name, metadata_only=True)
    return current


def restore_records(
    ctx: ServiceContext, uri: str, vm_uuid: str, records: tuple[SnapshotRecord, ...],
    current: str | None, actor: str = "migration",
) -> bool:  # fmt: skip
    """Define the records again on host `uri` (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE), those
    there already left alone. Answers whether all are there."""
    if not records:
        return True
    try:
        hv = ctx.hypervisors.connect(uri)
        have = set(hv.snapshot_names(vm_uuid))
        for r in records:
            if r.libvirt_name not in have:
                hv.redefine_snapshot(vm_uuid, r.xml, current=r.libvirt_name == current)
        return True
    except VmpoolError as exc:
        log.warning("snapshot records of %s not defined on %s: %s", vm_uuid, uri, exc.message)
        with ctx.uow() as uow:
            uow.events.record(actor, "snapshot.records_missing", f"vm-uuid/{vm_uuid}",
                              host=uri, error=exc.message)  # fmt: skip
            uow.commit()
        return False


def restore_missing_records(ctx: ServiceContext) -> list[int]:
    """The sync's repair: a ready snapshot whose record its VM's host lacks (vmpool stopped
    between a migration's end and the records' definition on the target) is defined
    again there. Answers the ids of the VMs repaired."""
    with ctx.uow() as uow:
        todo: list[tuple[int, str, str, tuple[SnapshotRecord, ...]]] = []
        for vm_id in uow.snapshots.vms_with_ready_snapshots():
            vm = uow.vms.get(vm_id)
            if vm.vm_state not in (VmState.RUNNING, VmState.STOPPED) or vm.host_id is None:
                continue
            host = uow.hosts.find(vm.host_id)
            if host is None or host.silent or uow.migrations.active_for_vm(vm_id) is not None:
                continue
            todo.append((vm_id, vm.uuid, host.uri, records_of(uow, vm_id)))
    repaired: list[int] = []
    for vm_id, vm_uuid, uri, records in todo:
        try:
            have = set(ctx.hypervisors.connect(uri).snapshot_names(vm_uuid))
        except VmpoolError:
            continue
        if all(r.libvirt_name in have for r in records):
            continue
        if restore_records(ctx, uri, vm_uuid, records, records[-1].libvirt_name, "sync"):
            repaired.append(vm_id)
    return repaired
