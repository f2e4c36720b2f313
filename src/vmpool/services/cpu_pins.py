"""Dedicated CPUs and huge pages of a VM (docs/hardware-cpus.md): its pinned CPUs recorded in
the caller's transaction, under the pool lock placement's claims are taken with, and what
its domain definition says of them."""

from __future__ import annotations

from typing import Any

from vmpool.adapters.db.tables import CpuPinRow, HostRow, VmRow
from vmpool.domain.cpu_pinning import (
    CpuAllocation,
    check_fixed_size,
    check_host_cpu_sets,
    check_hugepage_memory,
    host_allocation,
    host_cpu_sets,
)
from vmpool.domain.hardware import HUGEPAGE_SIZES_KIB, CpuPolicy
from vmpool.domain.model import PlacementHost
from vmpool.errors import Conflict
from vmpool.services.unit_of_work import UnitOfWork


def pin_on(uow: UnitOfWork, vm: VmRow, host: PlacementHost) -> CpuAllocation | None:
    """Record a dedicated VM's CPUs on `host` (the placement host chosen under the pool lock,
    so its free CPUs are the ones placement saw). None for a shared VM."""
    if vm.cpu_policy != CpuPolicy.DEDICATED.value:
        return None
    alloc = host_allocation(host, vm.vcpus)
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
