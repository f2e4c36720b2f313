"""VM use cases: create, delete, read (the power actions are in `vm_actions`).

Each action writes its intent (a transitional state) in one transaction, calls
the hypervisor outside any transaction, then writes the outcome in another.
If vmpool dies in between, the sync job settles the record from what the host
reports once the intent is stale, so no record stays mid-state.
"""

from __future__ import annotations

import json
import logging
import uuid as uuidlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from vmpool.adapters.db.tables import VmRow
from vmpool.domain import limits
from vmpool.domain.hardware import PLAIN, HardwareRequest, check_hardware_request
from vmpool.domain.images import DiskFormat, ImageState, boot_disk_gib
from vmpool.domain.model import DomainType
from vmpool.domain.names import validate_name, validate_trait
from vmpool.domain.ports import BootImage
from vmpool.domain.resize import check_maxima
from vmpool.domain.seed import FirstBoot, network_config, seed_files
from vmpool.domain.vm import VmState, ha_blocker
from vmpool.errors import AlreadyExists, InvalidInput, InvalidState, NotFound, VmpoolError
from vmpool.services import cpu_pins, images, leases, nics, passthrough, projects, vm_definitions
from vmpool.services.group_rules import group_to_join
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import (
    check_shared_room_in,
    timed_place,
)
from vmpool.services.pools import default_pool
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import VmView, vm_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateVm:
    name: str
    vcpus: int
    memory_mib: int
    image: str | None = None
    disk_gib: int = 0
    pool_id: int | None = None
    kernel_args: tuple[str, ...] = ()
    guaranteed: bool = False
    arch: str | None = None
    kvm_only: bool = False
    required_traits: frozenset[str] = frozenset()
    hosts: frozenset[str] | None = None
    placement_group: str | None = None
    migratable: bool = True
    disk_storage: str = "local"  # local | shared, when disk_gib > 0
    # cloud-init NoCloud: user data, SSH keys, network configuration.
    first_boot: FirstBoot = field(default_factory=FirstBoot)
    nics: tuple[nics.NicRequest, ...] = ()
    project_id: int | None = None  # an admin's choice; a member's VM goes to its project
    ha: bool = False  # started on another host when its host fails and is fenced
    # Its lease (docs/lifecycle.md): an instant or a duration (not both), else the pool's.
    lease_expires_at: datetime | None = None
    lease_s: int | None = None
    reclaim_policy: str | None = None
    # Hot-plug: the sizes it may grow to while it runs (None: its initial size).
    max_vcpus: int | None = None
    max_memory_mib: int | None = None
    # Special hardware (docs/hardware.md).
    hardware: HardwareRequest = PLAIN


def _check_sizes(cmd: CreateVm) -> None:
    limits.VCPUS.check(cmd.vcpus, "vcpus")
    limits.MEMORY_MIB.check(cmd.memory_mib, "memory_mib")
    limits.DISK_GIB.check(cmd.disk_gib, "disk_gib")
    check_maxima(cmd.vcpus, cmd.memory_mib, *_maxima(cmd))
    if cmd.disk_storage not in ("local", "shared"):
        raise InvalidInput("disk_storage must be local or shared", field="disk_storage")


def _maxima(cmd: CreateVm) -> tuple[int, int]:
    return (
        cmd.max_vcpus if cmd.max_vcpus is not None else cmd.vcpus,
        cmd.max_memory_mib if cmd.max_memory_mib is not None else cmd.memory_mib,
    )


def create_vm(ctx: ServiceContext, cmd: CreateVm, actor: str = "api") -> VmView:
    validate_name(cmd.name, "vm name")
    _check_sizes(cmd)
    cmd.first_boot.check()
    vm_uuid = str(uuidlib.uuid4())
    boot: BootImage | None = None
    base: _Base | None = None

    project_id = projects.acting_project(ctx, cmd.project_id)

    # 1. Intent: place and claim in one transaction, under the project's and the pool's locks.
    with ctx.uow() as uow:
        uow.projects.get_for_update(project_id)  # always the project first, then the pool
        pool_id = cmd.pool_id if cmd.pool_id is not None else default_pool(uow).id
        pool = uow.pools.get_for_update(pool_id)
        if uow.vms.by_name(cmd.name) is not None:
            raise AlreadyExists(f"a VM named {cmd.name} already exists", name=cmd.name)
        group, group_id = group_to_join(uow, cmd.placement_group, pool.id, project_id)
        networks = nics.check_requests(uow, cmd.nics)
        disk_gib = cmd.disk_gib
        if cmd.image is not None:
            # A catalog image: the boot disk is an overlay of it. Else a kernel boot image.
            base = _base_image(uow, cmd.image)
            if base is None:
                boot = ctx.images.resolve(cmd.image)
            else:
                disk_gib = boot_disk_gib(cmd.disk_gib, base.virtual_size)
        required_type = DomainType.KVM if cmd.kvm_only else ctx.domain_type
        projects.claim_quota(
            uow, project_id, vms=1, vcpus=cmd.vcpus, memory_mib=cmd.memory_mib, disk_gib=disk_gib
        )
        row = VmRow(
            project_id=project_id,
            pool_id=pool.id,
            name=cmd.name,
            uuid=vm_uuid,
            vcpus=cmd.vcpus,
            memory_mib=cmd.memory_mib,
            max_vcpus=_maxima(cmd)[0],
            max_memory_mib=_maxima(cmd)[1],
            disk_gib=disk_gib,
            image=cmd.image,
            image_id=base.id if base is not None else None,
            guaranteed=cmd.guaranteed,
            migratable=cmd.migratable,
            disk_storage=cmd.disk_storage if disk_gib > 0 else None,
            placement_group_id=group_id,
            domain_type=required_type.value if required_type else None,
            arch=cmd.arch,
            required_traits=",".join(sorted({validate_trait(t) for t in cmd.required_traits})),
            ha=cmd.ha,
            kernel_args=json.dumps(list(cmd.kernel_args)),
            state_changed_at=ctx.clock(),
        )
        row.set_hardware(check_hardware_request(cmd.hardware))
        cpu_pins.check_vm_sizes(row)
        row.lease_expires_at, row.reclaim_policy = leases.for_new_vm(
            ctx.clock(),
            pool,
            cmd.lease_expires_at,
            cmd.lease_s,
            cmd.reclaim_policy,
            disk_gib > 0,
            uow.projects.get(project_id),
        )
        if cmd.ha and (why := ha_blocker(disk_gib, row.disk_storage, 0)) is not None:
            raise InvalidInput(f"VM {cmd.name} cannot be ha: {why}", field="ha")
        request = row.placement_requirements(group, allowed_hosts=cmd.hosts, networks=networks)
        chosen = timed_place(ctx.metrics, "create", uow, pool, request)
        if disk_gib and cmd.disk_storage == "shared":
            check_shared_room_in(uow, pool.id, disk_gib)
        domain_type = required_type or (
            DomainType.KVM if DomainType.KVM in chosen.domain_types else DomainType.QEMU
        )
        host_row = uow.hosts.get(chosen.id)
        row.host_id = chosen.id
        row.domain_type = domain_type.value
        row.machine = chosen.hardware.machine  # kept for its migrations and redefinitions
        if disk_gib > 0:
            folder = (
                host_row.shared_disk_path
                if cmd.disk_storage == "shared"
                else host_row.local_disk_path or ctx.default_local_disk_path
            )
            assert folder is not None  # placement required shared storage
            row.disk_path = str(Path(folder) / f"{cmd.name}-{vm_uuid}.qcow2")
        uow.vms.add(row)
        passthrough.claim_devices(uow, row, chosen.id)  # its devices, under the pool's lock
        cpu_pins.pin_on(uow, row, chosen)  # its dedicated CPUs, under the same pool lock
        # The VM's `creating` is their intent: its outcome, undo or recovery covers them.
        nic_rows = [nics.allocate(ctx, uow, row.id, r, with_vm=True) for r in cmd.nics]
        first_boot = cmd.first_boot
        if base is not None and first_boot.network_config is None and nics.addressing(nic_rows):
            # A disk image's guest learns its addresses from the seed's network-config.
            first_boot = replace(
                first_boot, network_config=network_config(nics.addressing(nic_rows))
            )
        if first_boot.wanted:
            local = host_row.local_disk_path or ctx.default_local_disk_path
            row.seed_path = str(Path(local) / f"{cmd.name}-{vm_uuid}-seed.iso")
        uow.events.record(actor, "vm.create", f"vm/{row.id}", project_id, name=cmd.name,
                          host=chosen.name)  # fmt: skip
        vm_id, disk_path, seed_path = row.id, row.disk_path, row.seed_path
        host_uri, host_id = host_row.uri, host_row.id
        spec = vm_definitions.domain_spec(ctx, uow, row, boot)
        uow.commit()

    # 2. The hypervisor, outside any transaction.
    try:
        hv = ctx.hypervisors.connect(host_uri)
        if disk_path is not None and base is not None:
            backing = images.ensure_on_host(ctx, base.id, host_id)
            folder, stem = str(Path(disk_path).parent), Path(disk_path).stem
            made = hv.create_overlay(folder, stem, backing, base.format, disk_gib)
            assert made == disk_path, (made, disk_path)
        elif disk_path is not None:
            made = hv.create_volume(str(Path(disk_path).parent), Path(disk_path).stem, disk_gib)
            assert made == disk_path, (made, disk_path)
        if seed_path is not None:
            iso = images.store_of(ctx).keep_seed(vm_uuid, seed_files(cmd.name, vm_uuid, first_boot))
            made = hv.upload_volume(str(Path(seed_path).parent), Path(seed_path).name, iso)
            assert made == seed_path, (made, seed_path)
        hv.define(spec)
        hv.start(vm_uuid)
        observed = VmState(hv.domain(vm_uuid).state)
    except VmpoolError as exc:
        volumes = [p for p in (disk_path, seed_path) if p is not None]
        _abandon_create(ctx, vm_id, vm_uuid, host_uri, volumes, exc, actor)
        raise
    # 3. Outcome.
    with ctx.uow() as uow:
        row = same_vm(uow, vm_id, vm_uuid)
        row.settle(VmState.CREATING, observed, ctx.clock())
        view = vm_view(row)
        uow.commit()
        return view


def remove_domain_and_disks(
    ctx: ServiceContext, host_uri: str, vm_uuid: str, volumes: list[str]
) -> None:
    """Destroy and undefine the domain, then delete its volumes; each is fine if already
    gone."""
    hv = ctx.hypervisors.connect(host_uri)
    hv.undefine(vm_uuid)
    for path in volumes:
        hv.delete_volume(path)
    if ctx.image_store is not None:
        ctx.image_store.remove_seed(vm_uuid)


def _abandon_create(
    ctx: ServiceContext,
    vm_id: int,
    vm_uuid: str,
    host_uri: str,
    volumes: list[str],
    cause: VmpoolError,
    actor: str,
) -> None:
    """Undo a failed create: no half-defined domain, no disk, no capacity left claimed."""
    cleaned = True
    try:
        remove_domain_and_disks(ctx, host_uri, vm_uuid, volumes)
    except VmpoolError:
        cleaned = False
        log.warning("could not remove the domain of failed VM %s yet", vm_id, exc_info=True)
    with ctx.uow() as uow:
        row = uow.vms.same(vm_id, vm_uuid)
        if row is None:
            return
        if cleaned:
            uow.vms.delete(row)
            uow.events.record(actor, "vm.create_failed", f"vm/{vm_id}", error=cause.message)
        else:
            # The host went away mid-create: the sync removes the domain and the
            # record (and so the claim) once the host answers again.
            row.abandon_create(ctx.clock(), f"create failed: {cause.message}")
        uow.commit()


def delete_vm(ctx: ServiceContext, vm_id: int, actor: str = "api") -> None:
    with ctx.uow() as uow:
        row = uow.vms.get(vm_id)
        busy = uow.vms.snapshot_busy(vm_id)
        if busy is not None:
            raise InvalidState(
                f"VM {row.name} has a snapshot {busy}: delete it when that is done", state=busy
            )
        row.begin_delete(ctx.clock(), ctx.stale_intent_s)
        host = uow.hosts.find(row.host_id) if row.host_id is not None else None
        uow.events.record(actor, "vm.delete", f"vm/{vm_id}", name=row.name)
        vm_uuid, volumes = row.uuid, uow.vms.volumes(row)
        host_uri = host.uri if host is not None else None
        if host is not None and host.silent:
            # Not asked now: the sync removes the domain, then the record, once it answers.
            row.last_error = "delete waits for the host to answer again"
            uow.commit()
            require_reachable(host)
        uow.commit()

    if host_uri is not None:
        try:
            remove_domain_and_disks(ctx, host_uri, vm_uuid, volumes)
        except VmpoolError as exc:
            # The record stays `deleting` (capacity still held, as the domain may
            # still run); the sync finishes the job when the host answers.
            with ctx.uow() as uow:
                row = same_vm(uow, vm_id, vm_uuid)
                row.last_error = f"delete failed: {exc.message}"
                uow.commit()
            raise
    with ctx.uow() as uow:
        gone = uow.vms.same(vm_id, vm_uuid)
        if gone is None:
            return  # the sync finished the delete meanwhile
        uow.vms.delete(gone)
        uow.events.record(actor, "vm.deleted", f"vm/{vm_id}", name=gone.name)
        uow.commit()


@dataclass(frozen=True)
class _Base:
    id: int
    format: DiskFormat
    virtual_size: int


def _base_image(uow: UnitOfWork, name: str) -> _Base | None:
    row = uow.images.by_name(name)
    if row is None:
        return None
    if row.image_state is not ImageState.AVAILABLE:
        raise InvalidState(f"image {name} is {row.state}", field="image", state=row.state)
    return _Base(row.id, DiskFormat(row.format), row.virtual_size_bytes)


def same_vm(uow: UnitOfWork, vm_id: int, vm_uuid: str) -> VmRow:
    row = uow.vms.same(vm_id, vm_uuid)
    if row is None:
        raise NotFound(f"vm {vm_id} is gone", vm_id=vm_id)
    return row


def get_vm(ctx: ServiceContext, vm_id: int) -> VmView:
    with ctx.uow() as uow:
        return vm_view(uow.vms.get(vm_id))


def list_vms(
    ctx: ServiceContext,
    *,
    host_id: int | None = None,
    state: str | None = None,
    pool_id: int | None = None,
    name: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    idle: bool | None = None,
) -> list[VmView]:
    if state is not None and state not in {s.value for s in VmState}:
        raise InvalidInput(f"unknown state {state!r}", known=sorted(s.value for s in VmState))
    with ctx.uow() as uow:
        rows = uow.vms.page(
            host_id=host_id,
            state=state,
            pool_id=pool_id,
            name=name,
            after_id=after_id,
            limit=limit,
            idle=idle,
        )
        return [vm_view(r) for r in rows]
