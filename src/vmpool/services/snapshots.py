"""Rows to domain snapshots: the bridge from the database to the pure algorithms."""

from __future__ import annotations

from collections.abc import Sequence

from vmpool.adapters.db.tables import HostRow, PoolRow
from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    HostSnapshot,
    HostState,
    PlacementStrategy,
    RatioOverrides,
    Resources,
    host_capacity,
)
from vmpool.services.unit_of_work import UnitOfWork
from vmpool.services.views import ResourceFigures, split_list

Allocation = tuple[int, int, int, frozenset[str]]
_NO_ALLOCATION: Allocation = (0, 0, 0, frozenset())


def policy_of(pool: PoolRow) -> AllocationPolicy:
    return AllocationPolicy(
        cpu_allocation_ratio=pool.cpu_allocation_ratio,
        ram_allocation_ratio=pool.ram_allocation_ratio,
        disk_allocation_ratio=pool.disk_allocation_ratio,
        reserved_vcpus=pool.reserved_vcpus,
        reserved_memory_mib=pool.reserved_memory_mib,
        reserved_disk_gib=pool.reserved_disk_gib,
        strategy=PlacementStrategy(pool.strategy),
    )


def host_snapshot(row: HostRow, allocation: Allocation) -> HostSnapshot:
    vcpus, mem, disk, names = allocation
    return HostSnapshot(
        id=row.id,
        name=row.name,
        state=HostState(row.state),
        physical=Resources(float(row.cpus), float(row.memory_mib), float(row.disk_gib)),
        used=Resources(float(vcpus), float(mem), float(disk)),
        arch=row.arch,
        domain_types=frozenset(DomainType(t) for t in split_list(row.domain_types)),
        traits=frozenset(split_list(row.traits)),
        overrides=RatioOverrides(
            row.cpu_allocation_ratio, row.ram_allocation_ratio, row.disk_allocation_ratio
        ),
        vm_names=names,
    )


def pool_snapshot(uow: UnitOfWork, pool: PoolRow) -> list[HostSnapshot]:
    allocations = uow.hosts.allocations(pool.id)
    hosts: Sequence[HostRow] = uow.hosts.list(pool_id=pool.id)
    return [host_snapshot(h, allocations.get(h.id, _NO_ALLOCATION)) for h in hosts]


def figures(r: Resources) -> ResourceFigures:
    return ResourceFigures(vcpus=r.vcpus, memory_mib=r.memory_mib, disk_gib=r.disk_gib)


def capacity_figures(snapshot: HostSnapshot, policy: AllocationPolicy) -> ResourceFigures:
    return figures(host_capacity(snapshot.physical, policy, snapshot.overrides))
