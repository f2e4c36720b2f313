"""Rows to domain snapshots: the bridge from the database to the pure algorithms."""

from __future__ import annotations

from vmpool.adapters.db.repositories import HostAllocation
from vmpool.adapters.db.tables import HostRow, PoolRow
from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    HostOverrides,
    HostSnapshot,
    HostState,
    PlacementStrategy,
    Resources,
    make_host_snapshot,
)
from vmpool.services.unit_of_work import UnitOfWork
from vmpool.services.views import ResourceFigures, split_list

NO_ALLOCATION = HostAllocation()


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


def overrides_of(row: HostRow) -> HostOverrides:
    return HostOverrides(
        cpu_allocation_ratio=row.cpu_allocation_ratio,
        ram_allocation_ratio=row.ram_allocation_ratio,
        disk_allocation_ratio=row.disk_allocation_ratio,
        reserved_vcpus=row.reserved_vcpus,
        reserved_memory_mib=row.reserved_memory_mib,
    )


def host_traits(row: HostRow) -> frozenset[str]:
    return frozenset(split_list(row.traits)) | frozenset(split_list(row.operator_traits))


def host_snapshot(row: HostRow, policy: AllocationPolicy, alloc: HostAllocation) -> HostSnapshot:
    return make_host_snapshot(
        id=row.id,
        name=row.name,
        state=HostState(row.state),
        physical=Resources(float(row.cpus), float(row.memory_mib), float(row.disk_gib)),
        policy=policy,
        overrides=overrides_of(row),
        shared_use=alloc.shared,
        dedicated_use=alloc.dedicated,
        arch=row.arch,
        domain_types=frozenset(DomainType(t) for t in split_list(row.domain_types)),
        traits=host_traits(row),
    )


def pool_snapshot(uow: UnitOfWork, pool: PoolRow) -> list[HostSnapshot]:
    policy = policy_of(pool)
    allocations = uow.hosts.allocations(pool.id)
    return [
        host_snapshot(h, policy, allocations.get(h.id, NO_ALLOCATION))
        for h in uow.hosts.list(pool_id=pool.id)
    ]


def figures(r: Resources) -> ResourceFigures:
    return ResourceFigures(vcpus=r.vcpus, memory_mib=r.memory_mib, disk_gib=r.disk_gib)
