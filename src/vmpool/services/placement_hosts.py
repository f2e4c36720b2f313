"""Hosts as placement sees them (`PlacementHost`): the bridge from the database rows to the
pure algorithms."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from vmpool.adapters.db.repositories import HostAllocation
from vmpool.adapters.db.tables import HostRow, LoadRow, PoolRow
from vmpool.domain import hypervisor_features
from vmpool.domain.cpu_pinning import HostCpuSets, host_cpu_sets
from vmpool.domain.hardware import NO_USE, HardwareUse, hardware_from_json
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    SHARED_STORAGE_TRAIT,
    AllocationPolicy,
    DomainType,
    HostOverrides,
    PlacementHost,
    PlacementRequirements,
    PlacementStrategy,
    Resources,
    make_placement_host,
    split_list,
)
from vmpool.domain.placement import check_shared_room, place_or_refuse
from vmpool.domain.ports import Metrics
from vmpool.services.unit_of_work import UnitOfWork
from vmpool.services.views import ResourceFigures

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


_NO_OVERRIDES = HostOverrides()


def overrides_of(row: HostRow) -> HostOverrides:
    return HostOverrides(
        cpu_allocation_ratio=row.cpu_allocation_ratio,
        ram_allocation_ratio=row.ram_allocation_ratio,
        disk_allocation_ratio=row.disk_allocation_ratio,
        reserved_vcpus=row.reserved_vcpus,
        reserved_memory_mib=row.reserved_memory_mib,
    )


def host_traits(row: HostRow) -> frozenset[str]:
    return _parse_traits(row.traits, row.operator_traits, bool(row.shared_disk_path))


@lru_cache(maxsize=4096)
def cpu_sets_of(dedicated: str | None, shared: str | None, cpus: int) -> HostCpuSets:
    """A host's dedicated and shared CPUs as stored (its vCPU capacity is the CPUs outside
    the dedicated set: dedicated VMs count against that set only)."""
    return host_cpu_sets(dedicated, shared, cpus)


_STATES = {s.value: s for s in HostState}
_DOMAIN_TYPES = {t.value: t for t in DomainType}


@lru_cache(maxsize=256)
def _parse_domain_types(text: str) -> frozenset[DomainType]:
    return frozenset(_DOMAIN_TYPES[t] for t in split_list(text) if t in _DOMAIN_TYPES)


@lru_cache(maxsize=4096)
def _parse_traits(discovered: str, operator: str, shared_storage: bool) -> frozenset[str]:
    traits = frozenset(split_list(discovered)) | frozenset(split_list(operator))
    return traits | {SHARED_STORAGE_TRAIT} if shared_storage else traits


def placement_host(
    row: HostRow,
    policy: AllocationPolicy,
    alloc: HostAllocation,
    networks: frozenset[str] = frozenset(),
    hardware_use: HardwareUse = NO_USE,
) -> PlacementHost:
    cpu_sets = cpu_sets_of(row.cpu_dedicated_set, row.cpu_shared_set, row.cpus)
    return make_placement_host(
        id=row.id,
        name=row.name,
        state=_STATES[row.state],
        physical=Resources(
            float(row.cpus - len(cpu_sets.dedicated)), float(row.memory_mib), float(row.disk_gib)
        ),
        policy=policy,
        overrides=overrides_of(row),
        shared_use=alloc.shared,
        dedicated_use=alloc.dedicated,
        arch=row.arch,
        domain_types=_parse_domain_types(row.domain_types),
        traits=host_traits(row),
        networks=networks,
        hardware=hardware_from_json(row.hardware),
        hardware_use=hardware_use,
        cpu_sets=cpu_sets,
    )


class HostReading(NamedTuple):
    """One host as the read-only views show it: its pool, its row, its allocation, its
    placement figures and its last load sample (None before the first)."""

    pool: PoolRow
    row: HostRow
    allocation: HostAllocation
    snap: PlacementHost
    load: LoadRow | None


def host_readings(uow: UnitOfWork, pool_rows: Iterable[PoolRow]) -> Iterator[HostReading]:
    """Every host of these pools, a few queries per pool (the dashboard, /metrics)."""
    for pool in pool_rows:
        policy = policy_of(pool)
        allocations = uow.hosts.allocations(pool.id)
        rows = uow.hosts.list(pool_id=pool.id)
        loads = uow.load.all_of("host", (r.id for r in rows))
        for row in rows:
            alloc = allocations.get(row.id, NO_ALLOCATION)
            snap = placement_host(row, policy, alloc)
            yield HostReading(pool, row, alloc, snap, loads.get(row.id))


def placement_hosts(uow: UnitOfWork, pool: PoolRow) -> list[PlacementHost]:
    policy = policy_of(pool)
    allocations = uow.hosts.allocations(pool.id)
    networks = uow.networks.names_on_hosts(pool.id)
    hardware_use = uow.hosts.hardware_use(pool.id)
    out: list[PlacementHost] = []
    # Positional unpacking: by-name access on 1,000 rows per placement costs milliseconds.
    for (
        host_id, name, state, cpus, memory_mib, disk_gib, arch, domain_types, traits,
        operator_traits, cpu_ratio, ram_ratio, disk_ratio, reserved_vcpus, reserved_memory_mib,
        shared_disk_path, hardware, cpu_dedicated_set, cpu_shared_set,
    ) in uow.hosts.placement_rows(pool.id):  # fmt: skip
        overrides = (
            _NO_OVERRIDES
            if cpu_ratio is None
            and ram_ratio is None
            and disk_ratio is None
            and reserved_vcpus is None
            and reserved_memory_mib is None
            else HostOverrides(
                cpu_ratio, ram_ratio, disk_ratio, reserved_vcpus, reserved_memory_mib
            )
        )
        alloc = allocations.get(host_id, NO_ALLOCATION)
        cpu_sets = cpu_sets_of(cpu_dedicated_set, cpu_shared_set, cpus)
        out.append(
            make_placement_host(
                id=host_id,
                name=name,
                state=_STATES[state],
                physical=Resources(
                    float(cpus - len(cpu_sets.dedicated)), float(memory_mib), float(disk_gib)
                ),
                policy=policy,
                overrides=overrides,
                shared_use=alloc.shared,
                dedicated_use=alloc.dedicated,
                arch=arch,
                domain_types=_parse_domain_types(domain_types),
                traits=_parse_traits(traits, operator_traits, bool(shared_disk_path)),
                networks=networks.get(host_id, frozenset()),
                hardware=hardware_from_json(hardware),
                hardware_use=hardware_use.get(host_id, NO_USE),
                cpu_sets=cpu_sets,
            )
        )
    return out


def figures(r: Resources) -> ResourceFigures:
    return ResourceFigures(vcpus=r.vcpus, memory_mib=r.memory_mib, disk_gib=r.disk_gib)


def check_shared_room_in(uow: UnitOfWork, pool_id: int, asked_gib: int) -> None:
    """Under the caller's pool lock: refuse a shared disk that does not fit the shared folder
    (measured by the sync on the hosts that mount it)."""
    sizes = [h.shared_disk_gib for h in uow.hosts.list(pool_id=pool_id) if h.shared_disk_gib]
    capacity = max(sizes) if sizes else None
    check_shared_room(capacity, uow.disks.shared_use_gib(pool_id), asked_gib)


def timed_place(
    metrics: Metrics, use: str, uow: UnitOfWork, pool: PoolRow, request: PlacementRequirements
) -> PlacementHost:
    """The host placement chooses in `pool` (or its 409), timed for the placement latency
    metric (`use`: create, migrate, restart), reading the hosts included."""
    start = time.perf_counter()
    try:
        return place_or_refuse(placement_hosts(uow, pool), request, policy_of(pool))
    finally:
        metrics.placement_timed(use, time.perf_counter() - start)


def require_host_feature(host: HostRow, feature: str, action: str) -> None:
    """409 when `host`'s hypervisor lacks `feature` (docs/hardware.md: one rule, in the
    domain, for every service that needs one)."""
    hypervisor_features.require_feature(
        hardware_from_json(host.hardware), feature, action, host=host.name
    )
