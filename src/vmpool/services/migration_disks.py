"""The disks a live migration copies, and what must exist on the target before it starts.

A VM's local disks (its boot disk unless it is on shared storage, and its local data disks)
are copied by libvirt during the migration, incrementally (VIR_MIGRATE_NON_SHARED_INC):
only the top layer of each. vmpool creates each target volume first, at the same path (libvirt
9.0 does not pre-create for incremental copies): a blank qcow2 of the same size for a data or
blank boot disk, and for a boot disk made from an image, an overlay of the same image, which
is first copied to the target (`images.ensure_on_host`) if it is not there yet. So the base
image never crosses the wire during a migration, only what the VM wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vmpool.adapters.db.tables import VmRow
from vmpool.domain.disk import BOOT_TARGET
from vmpool.domain.images import DiskFormat
from vmpool.errors import Conflict, VmpoolError
from vmpool.services import images
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VolumeCopy:
    target: str  # the disk as the guest sees it: vda, vdb, ...
    path: str
    gib: int
    image_id: int | None = None  # the boot disk's base image, for an overlay
    image_format: DiskFormat | None = None


def copies_of(uow: UnitOfWork, vm: VmRow) -> tuple[VolumeCopy, ...]:
    out: list[VolumeCopy] = []
    if vm.disk_path is not None and vm.disk_storage == "local":
        base = uow.images.find(vm.image_id) if vm.image_id is not None else None
        out.append(
            VolumeCopy(
                BOOT_TARGET, vm.disk_path, vm.disk_gib,
                base.id if base is not None else None,
                DiskFormat(base.format) if base is not None else None,
            )
        )  # fmt: skip
    out += [
        VolumeCopy(d.target, d.path, d.size_gib)
        for d in uow.disks.of_vm(vm.id)
        if d.storage == "local"
    ]
    return tuple(out)


def seed_of(vm: VmRow) -> tuple[str, str] | None:
    """(VM UUID, path) of the VM's first-boot seed: a read-only CD-ROM, which libvirt does
    not copy; the target gets it from the daemon's image store, at the same path."""
    return (vm.uuid, vm.seed_path) if vm.seed_path is not None else None


def shared_base(vm: VmRow) -> int | None:
    """The image under a boot disk on shared storage: the target needs its own copy."""
    if vm.disk_storage == "shared" and vm.image_id is not None:
        return vm.image_id
    return None


def prepare_target(
    ctx: ServiceContext,
    source_host_id: int,
    target_host_id: int,
    copies: tuple[VolumeCopy, ...],
    shared_image: int | None,
    seed: tuple[str, str] | None = None,
) -> list[str]:
    """Create every volume the copy needs on the target; answers their paths. What it made
    is removed again if it fails."""
    with ctx.uow() as uow:
        target_uri = uow.hosts.get(target_host_id).uri
    hv = ctx.hypervisors.connect(target_uri)
    made: list[str] = []
    try:
        for image_id in {c.image_id for c in copies if c.image_id is not None} | (
            {shared_image} if shared_image is not None else set()
        ):
            _same_base_path(ctx, image_id, source_host_id, target_host_id)
        for c in copies:
            folder, stem = str(Path(c.path).parent), Path(c.path).stem
            if c.image_id is not None and c.image_format is not None:
                backing = images.ensure_on_host(ctx, c.image_id, target_host_id)
                made.append(hv.create_overlay(folder, stem, backing, c.image_format, c.gib))
            else:
                made.append(hv.create_volume(folder, stem, c.gib))
        if seed is not None:
            vm_uuid, path = seed
            iso = images.store_of(ctx).seed_path(vm_uuid)
            made.append(hv.upload_volume(str(Path(path).parent), Path(path).name, iso))
    except VmpoolError:
        remove_volumes(ctx, target_uri, made)
        raise
    return made


def _same_base_path(
    ctx: ServiceContext, image_id: int, source_host_id: int, target_host_id: int
) -> None:
    here = images.ensure_on_host(ctx, image_id, source_host_id)
    there = images.ensure_on_host(ctx, image_id, target_host_id)
    if here != there:
        raise Conflict(
            f"the VM's base image is at {here} on its host but at {there} on the target: "
            "keep images at the same path on both (the same shared_disk_path, or the same "
            "local_disk_path and no shared folder)",
            field="target_host_id",
        )


def remove_volumes(ctx: ServiceContext, uri: str, paths: list[str]) -> None:
    """Best effort: a volume left behind is logged, never fatal to the caller."""
    if not paths:
        return
    try:
        hv = ctx.hypervisors.connect(uri)
    except VmpoolError as exc:
        log.warning("could not remove %s on %s: %s", paths, uri, exc.message)
        return
    for path in paths:
        try:
            hv.delete_volume(path)
        except VmpoolError as exc:
            log.warning("could not remove %s on %s: %s", path, uri, exc.message)
