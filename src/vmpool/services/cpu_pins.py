"""Dedicated CPUs and huge pages of a VM (docs/hardware.md): its pinned CPUs recorded in
the caller's transaction, under the pool lock placement's claims are taken with, and what
its domain definition says of them."""

from __future__ import annotations

from typing import Any

from vmpool.adapters.db.tables import CpuPinRow, HostRow, MigrationRow, VmRow
from vmpool.domain.cpu_pinning import (
    CpuAllocation,
    check_fixed_size,
    check_host_cpu_sets,
    check_hugepage_memory,
    host_allocation,
    host_cpu_sets,
)
from vmpool.domain.hardware import HUGEPAGE_SIZES_KIB, CpuPolicy
from vmpool.domain.migration import MigrationState
from vmpool.domain.model import PlacementHost
from vmpool.domain.ports import CpuPlacement
from vmpool.errors import Conflict
from vmpool.services.unit_of_work import UnitOfWork


def pin_on(
    uow: UnitOfWork, vm: VmRow, host: PlacementHost, moving_cells: tuple[int, ...] = ()
) -> CpuAllocation | None:
    """Record a dedicated VM's CPUs on `host` (the placement host chosen under the pool lock,
    so its free CPUs are the ones placement saw). None for a shared VM. `moving_cells`: it
    moves live there (its guest NUMA cells stay as they are: `moving_cells_of`)."""
    if vm.cpu_policy != CpuPolicy.DEDICATED.value:
        return None
    alloc = host_allocation(host, vm.vcpus, moving_cells)
    if alloc is None:  # placement's dedicated_cpus filter let it through: cannot happen
        raise Conflict(f"host {host.name} has not {vm.vcpus} free dedicated CPUs")
    uow.hosts.add_cpu_pins(
        [
            CpuPinRow(host_id=host.id, vm_id=vm.id, vcpu=i, host_cpu=cpu, numa_cell=cell)
            for i, (cpu, cell) in enumerate(zip(alloc.pins, alloc.cells, strict=True))
        ]
    )
    return alloc


def release(uow: UnitOfWork, vm_id: int, host_id: int) -> None:
    uow.hosts.release_cpu_pins(vm_id, host_id)


def release_elsewhere(uow: UnitOfWork, vm_id: int) -> None:
    """After a migration ends (either way): only the CPUs on the host it runs on stay."""
    uow.hosts.release_cpu_pins(vm_id)


def spec_fields(uow: UnitOfWork, vm: VmRow, host_id: int | None = None) -> dict[str, Any]:
    """The DomainSpec fields of its pinning and huge pages on `host_id` (default: its host)."""
    fields: dict[str, Any] = {}
    if vm.hugepages is not None:
        fields["hugepage_kib"] = HUGEPAGE_SIZES_KIB[vm.hugepages]
    where = host_id if host_id is not None else vm.host_id
    if vm.cpu_policy != CpuPolicy.DEDICATED.value or where is None:
        return fields
    pins = uow.hosts.cpu_pins(vm.id, where)
    if not pins:
        return fields
    host = uow.hosts.get(where)
    sets = host_cpu_sets(host.cpu_dedicated_set, host.cpu_shared_set, host.cpus)
    fields["vcpu_pins"] = tuple(p.host_cpu for p in pins)
    fields["vcpu_cells"] = tuple(p.numa_cell for p in pins)
    # The emulator threads on the shared CPUs; on its own CPUs when the host has none shared.
    fields["emulator_cpus"] = tuple(sorted(sets.shared)) or tuple(sorted(fields["vcpu_pins"]))
    fields["numa_cells"] = tuple(sorted({p.numa_cell for p in pins}))
    return fields


def check_split(uow: UnitOfWork, row: HostRow, changes: dict[str, object]) -> None:
    """An operator's new CPU split, checked (422, or 409 when a pinned CPU would leave the
    dedicated set); stored as given."""
    dedicated = changes.get("cpu_dedicated_set", row.cpu_dedicated_set)
    shared = changes.get("cpu_shared_set", row.cpu_shared_set)
    check_host_cpu_sets(
        str(dedicated) if dedicated else None,
        str(shared) if shared else None,
        row.cpus,
        uow.hosts.pinned_cpus(row.id),
    )


def check_vm_sizes(vm: VmRow) -> None:
    """A dedicated or huge-page VM is made at its size (422 otherwise)."""
    check_hugepage_memory(vm.memory_mib, vm.hugepages)
    check_fixed_size(
        vm.cpu_policy == CpuPolicy.DEDICATED.value,
        vm.hugepages,
        (vm.max_vcpus or vm.vcpus) > vm.vcpus,
        (vm.max_memory_mib or vm.memory_mib) > vm.memory_mib,
    )


# --- live migration (docs/hardware.md) ----------------------------------------


def moving_cells_of(uow: UnitOfWork, vm: VmRow, source_id: int) -> tuple[int, ...]:
    """A dedicated VM about to move live: the host NUMA cell of each of its vCPUs on its
    source (its guest NUMA cells, which the target must give again). () for a shared VM or
    one whose pins are not all recorded (the target then allocates as for a new VM)."""
    if vm.cpu_policy != CpuPolicy.DEDICATED.value:
        return ()
    pins = uow.hosts.cpu_pins(vm.id, source_id)
    if len(pins) != vm.vcpus:
        return ()
    return tuple(p.numa_cell for p in pins)


def dest_cpus(uow: UnitOfWork, vm: VmRow, target_id: int) -> CpuPlacement | None:
    """The target's CPUs of a dedicated VM's migration, recorded when it was queued, for the
    definition sent with it. None for a shared VM."""
    fields = spec_fields(uow, vm, target_id)
    if "vcpu_pins" not in fields:
        return None
    return CpuPlacement(
        vcpu_pins=fields["vcpu_pins"],
        vcpu_cells=fields["vcpu_cells"],
        emulator_cpus=fields["emulator_cpus"],
    )


def settle_migration(uow: UnitOfWork, m: MigrationRow) -> None:
    """A migration's outcome, in the transaction that records it: a VM that moved keeps the
    target's CPUs and gives back the source's; one that did not (failed, cancelled) gives
    back the target's. Nothing while it is still in flight (or queued again)."""
    if not m.is_final:
        return
    if m.state == MigrationState.COMPLETED.value:
        if m.source_host_id is not None:
            release(uow, m.vm_id, m.source_host_id)
    elif m.target_host_id is not None:
        release(uow, m.vm_id, m.target_host_id)


def target_pins_missing(uow: UnitOfWork, vm: VmRow, m: MigrationRow) -> str | None:
    """Why a dedicated VM's migration does not start: its CPUs are not all recorded on the
    target (queued by a vmpool that did not allocate them); it would run on any CPU there."""
    if vm.cpu_policy != CpuPolicy.DEDICATED.value or m.target_host_id is None:
        return None
    if len(uow.hosts.cpu_pins(vm.id, m.target_host_id)) == vm.vcpus:
        return None
    return f"VM {vm.name} has dedicated CPUs and none are recorded for it on the target"
