"""A VM's data disks: add (hot-plug on a running VM), grow (online), remove.

Each change writes its intent and its claim on the host's disk first (`attaching`,
`resizing` with the new size, `detaching`), under the pool lock and checked against the
host's free disk as placement would; then calls the host; then records the outcome. A
failure undoes what it did: no volume left behind, no claim held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vmpool.adapters.db.tables import DiskRow, HostRow, VmRow
from vmpool.domain import limits
from vmpool.domain.disk import check_growth, next_target
from vmpool.domain.images import StorageKind
from vmpool.domain.model import SHARED_STORAGE_TRAIT, PlacementRequirements
from vmpool.domain.placement import place_or_refuse
from vmpool.errors import InvalidInput, InvalidState, VmpoolError
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import check_shared_room_in, placement_hosts, policy_of
from vmpool.services.preconditions import IfMatch, check_if_match, etag
from vmpool.services.projects import claim_quota
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiskView:
    id: int
    vm_id: int
    target: str
    size_gib: int
    storage: str
    path: str
    state: str
    last_error: str | None
    created_at: datetime
    etag: str  # of its size (services/preconditions.py)


def disk_view(row: DiskRow) -> DiskView:
    return DiskView(
        id=row.id,
        vm_id=row.vm_id,
        target=row.target,
        size_gib=row.size_gib,
        storage=row.storage,
        path=row.path,
        state=row.state,
        last_error=row.last_error,
        created_at=row.created_at,
        etag=etag(row),
    )


def _claim_room(uow: UnitOfWork, vm: VmRow, storage: StorageKind, more_gib: int) -> HostRow:
    """Under the project's and the pool's locks: the VM's host, if the project's disk quota
    and the host's free disk (local disks; a shared disk needs a host that mounts the shared
    folder) take `more_gib` more. A 409 explains otherwise, per quota or per filter."""
    claim_quota(uow, vm.project_id, disk_gib=more_gib)
    uow.pools.get_for_update(vm.pool_id)
    if vm.host_id is None:
        raise InvalidState(f"VM {vm.name} has no host")
    host = require_reachable(uow.hosts.get(vm.host_id))
    pool = uow.pools.get(vm.pool_id)
    local = more_gib if storage is StorageKind.LOCAL else 0
    traits = frozenset({SHARED_STORAGE_TRAIT}) if storage is StorageKind.SHARED else frozenset()
    request = PlacementRequirements(
        vcpus=0, memory_mib=0, disk_gib=local, required_traits=traits,
        allowed_hosts=frozenset({host.name}),
    )  # fmt: skip
    place_or_refuse(placement_hosts(uow, pool), request, policy_of(pool))
    if storage is StorageKind.SHARED:
        check_shared_room_in(uow, vm.pool_id, more_gib)
    return host


def _folder(ctx: ServiceContext, host: HostRow, storage: StorageKind) -> str:
    if storage is StorageKind.SHARED:
        assert host.shared_disk_path is not None  # placement required the trait
        return host.shared_disk_path
    return host.local_disk_path or ctx.default_local_disk_path


def add_disk(
    ctx: ServiceContext, vm_id: int, size_gib: int, storage: str = "local", actor: str = "api"
) -> DiskView:
    limits.DATA_DISK_GIB.check(size_gib, "size_gib")
    try:
        kind = StorageKind(storage)
    except ValueError:
        raise InvalidInput("storage must be local or shared", field="storage") from None
    # 1. Intent and claim.
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        vm.check_devices_can_change()
        if vm.ha and kind is StorageKind.LOCAL:
            raise InvalidInput(
                f"VM {vm.name} is ha: its disks must be on shared storage (another host "
                "starts it when its host fails)",
                field="storage",
            )
        host = _claim_room(uow, vm, kind, size_gib)
        target = next_target(d.target for d in uow.disks.of_vm(vm_id))
        path = str(Path(_folder(ctx, host, kind)) / f"{vm.name}-{vm.uuid}-{target}.qcow2")
        row = uow.disks.add(
            DiskRow(vm_id=vm_id, target=target, size_gib=size_gib, storage=kind.value,
                    path=path, state_changed_at=ctx.clock(), created_at=ctx.clock())
        )  # fmt: skip
        uow.events.record(actor, "disk.add", f"vm/{vm_id}", target=target, size_gib=size_gib)
        disk_id, vm_uuid, uri = row.id, vm.uuid, host.uri
        uow.commit()
    # 2. The host.
    hv = ctx.hypervisors.connect(uri)
    created = False
    try:
        hv.create_volume(str(Path(path).parent), Path(path).stem, size_gib)
        created = True
        hv.attach_disk(vm_uuid, path, target)
    except VmpoolError as exc:
        if created:
            try:
                hv.delete_volume(path)
            except VmpoolError:
                log.warning("could not remove volume %s of a failed attach", path)
        with ctx.uow() as uow:
            gone = uow.disks.find(disk_id)
            if gone is not None:
                uow.disks.delete(gone)  # and so its claim
            uow.events.record(actor, "disk.add_failed", f"vm/{vm_id}", error=exc.message)
            uow.commit()
        raise
    # 3. Outcome.
    with ctx.uow() as uow:
        row = uow.disks.get(vm_id, disk_id)
        row.attached(ctx.clock())
        view = disk_view(row)
        uow.commit()
        return view


def resize_disk(
    ctx: ServiceContext,
    vm_id: int,
    disk_id: int,
    size_gib: int,
    actor: str = "api",
    if_match: IfMatch | None = None,
) -> DiskView:
    """Grow the disk; with `if_match`, only if its ETag still matches (checked with the disk
    row locked, in the transaction that claims the new size)."""
    limits.DATA_DISK_GIB.check(size_gib, "size_gib")
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        row = uow.disks.get(vm_id, disk_id, for_update=True)
        check_if_match(if_match, row)
        vm.check_devices_can_change()
        check_growth(row.size_gib, size_gib)
        host = _claim_room(uow, vm, StorageKind(row.storage), size_gib - row.size_gib)
        before = row.begin_resize(size_gib, ctx.clock())  # the new size is claimed now
        uow.events.record(actor, "disk.resize", f"vm/{vm_id}", target=row.target,
                          from_gib=before, to_gib=size_gib)  # fmt: skip
        vm_uuid, uri, path, target = vm.uuid, host.uri, row.path, row.target
        uow.commit()
    error: VmpoolError | None = None
    try:
        ctx.hypervisors.connect(uri).resize_disk(vm_uuid, path, target, size_gib)
    except VmpoolError as exc:
        error = exc
    with ctx.uow() as uow:
        row = uow.disks.get(vm_id, disk_id)
        if error is None:
            row.resize_ended(ctx.clock())
        else:
            row.resize_ended(ctx.clock(), restore_gib=before, error=error.message)
        view = disk_view(row)
        uow.commit()
    if error is not None:
        raise error
    return view


def remove_disk(ctx: ServiceContext, vm_id: int, disk_id: int, actor: str = "api") -> None:
    """Detach (confirmed by the guest releasing it), then delete the volume, then the
    record and its claim. A guest that does not let go keeps the disk, attached."""
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        row = uow.disks.get(vm_id, disk_id)
        vm.check_devices_can_change()
        if vm.host_id is None:
            raise InvalidState(f"VM {vm.name} has no host")
        host = require_reachable(uow.hosts.get(vm.host_id))
        row.begin_detach(ctx.clock())
        uow.events.record(actor, "disk.remove", f"vm/{vm_id}", target=row.target)
        vm_uuid, uri, path, target = vm.uuid, host.uri, row.path, row.target
        uow.commit()
    hv = ctx.hypervisors.connect(uri)
    try:
        hv.detach_disk(vm_uuid, path, target)
    except VmpoolError as exc:
        with ctx.uow() as uow:
            row = uow.disks.get(vm_id, disk_id)
            row.detach_failed(ctx.clock(), f"detach failed: {exc.message}")
            uow.commit()
        raise
    hv.delete_volume(path)  # if this fails the record stays `detaching`: asked again later
    with ctx.uow() as uow:
        gone = uow.disks.find(disk_id)
        if gone is not None:
            uow.disks.delete(gone)
        uow.commit()


def list_disks(ctx: ServiceContext, vm_id: int) -> list[DiskView]:
    with ctx.uow() as uow:
        uow.vms.get(vm_id)
        return [disk_view(d) for d in uow.disks.of_vm(vm_id)]


def get_disk(ctx: ServiceContext, vm_id: int, disk_id: int) -> DiskView:
    with ctx.uow() as uow:
        return disk_view(uow.disks.get(vm_id, disk_id))
