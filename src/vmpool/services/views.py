"""What services hand back: plain values, safe to use after the transaction ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vmpool.adapters.db.tables import NicRow, PoolRow, VmRow
from vmpool.domain.hardware import devices_from_json
from vmpool.domain.model import HostOverrides
from vmpool.services.preconditions import etag


@dataclass(frozen=True)
class NicView:
    id: int
    vm_id: int
    network: str
    mac: str
    model: str
    ipv4: str | None
    ipv6: str | None
    state: str
    last_error: str | None


def nic_view(row: NicRow) -> NicView:
    return NicView(
        id=row.id,
        vm_id=row.vm_id,
        network=row.network.name,
        mac=row.mac,
        model=row.model,
        ipv4=row.ipv4,
        ipv6=row.ipv6,
        state=row.state,
        last_error=row.last_error,
    )


@dataclass(frozen=True)
class ForeignDomainView:
    uuid: str
    name: str
    state: str
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class ResourceFigures:
    vcpus: float
    memory_mib: float
    disk_gib: float


@dataclass(frozen=True)
class EvacuationItem:
    vm_id: int
    vm_name: str
    state: str  # the VM's migration state, or "stays" / "pending"
    migration_id: int | None
    target_host: str | None
    error: str | None


@dataclass(frozen=True)
class Evacuation:
    status: str  # evacuating | done | incomplete
    vms_remaining: int
    items: list[EvacuationItem]


@dataclass(frozen=True)
class HugePagesView:
    size_kib: int
    total: int
    free: int  # as libvirt last reported (claims are counted from total)
    claimed: int = 0  # pages claimed on this cell by vmpool's VMs bound to it (dedicated)


@dataclass(frozen=True)
class HostHugePagesView:
    """A host's huge pages of one size, all cells: what placement counts."""

    size_kib: int
    total: int  # as libvirt last reported
    claimed: int  # by vmpool's VMs (bound to a cell or not), running, stopped or arriving
    available: int  # total - claimed: what the hugepages filter offers


@dataclass(frozen=True)
class NumaCellView:
    id: int
    cpus: list[int]
    memory_mib: int
    hugepages: list[HugePagesView]


@dataclass(frozen=True)
class HostView:
    id: int
    pool_id: int
    name: str
    uri: str
    state: str
    host_uuid: str
    hostname: str
    arch: str
    cpus: int
    memory_mib: int
    disk_gib: int
    domain_types: list[str]
    traits: list[str]
    operator_traits: list[str]
    networks: list[str]
    overrides: HostOverrides
    cpu_model: str
    libvirt_version: str
    hypervisor_version: str
    capacity: ResourceFigures
    allocated: ResourceFigures
    vm_count: int
    last_seen_at: datetime | None
    last_error: str | None
    next_check_at: datetime | None
    migration_address: str | None
    peer_uri: str | None
    local_disk_path: str | None
    shared_disk_path: str | None
    maintenance_since: datetime | None
    fenced_at: datetime | None
    fenced_by: str | None  # operator | command
    fence_command: list[str] | None
    evacuation: Evacuation | None  # while in maintenance
    foreign_domains: list[ForeignDomainView]
    created_at: datetime
    etag: str  # of what an operator sets (services/preconditions.py)
    # Dedicated CPUs and NUMA (docs/hardware.md): the operator's split, the CPUs
    # pinned to dedicated VMs, and the cells with their huge pages as libvirt reported them.
    cpu_dedicated_set: str | None = None
    cpu_shared_set: str | None = None
    pinned_cpus: list[int] = field(default_factory=list)
    numa_cells: list[NumaCellView] = field(default_factory=list)
    hugepages: list[HostHugePagesView] = field(default_factory=list)  # by size, all cells


@dataclass(frozen=True)
class VmView:
    id: int
    project_id: int
    pool_id: int
    name: str
    uuid: str
    host_id: int | None
    host_name: str | None
    vcpus: int
    memory_mib: int
    max_vcpus: int
    max_memory_mib: int
    disk_gib: int
    image: str | None
    guaranteed: bool
    migratable: bool
    ha: bool
    disk_storage: str | None
    disk_path: str | None
    seed_path: str | None
    placement_group: str | None
    domain_type: str
    state: str
    state_changed_at: datetime
    last_error: str | None
    created_at: datetime
    nics: list[NicView]
    # Its lease and the idle rule (docs/lifecycle.md).
    lease_expires_at: datetime | None = None
    reclaim_policy: str | None = None
    idle_since: datetime | None = None
    idle_warned_at: datetime | None = None
    # Special hardware (docs/hardware.md).
    tpm: bool = False
    sgx_epc_mib: int = 0
    cpu_policy: str = "shared"
    hugepages: str | None = None
    devices: list[dict[str, Any]] = field(default_factory=list)
    machine: str | None = None


@dataclass(frozen=True)
class PoolView:
    id: int
    name: str
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    reserved_vcpus: int
    reserved_memory_mib: int
    reserved_disk_gib: int
    strategy: str
    rebalance_mode: str
    rebalance_strategy: str
    rebalance_interval_s: int
    rebalance_min_gain: float
    rebalance_hysteresis_cycles: int
    rebalance_cooldown_s: int
    rebalance_max_moves: int
    rebalance_max_memory_mib: int
    migration_tls: bool
    members_may_migrate: bool
    rebalance_streak: int
    rebalance_last_run_at: datetime | None
    rebalance_last_result: str | None
    created_at: datetime
    updated_at: datetime
    etag: str  # of its policy (services/preconditions.py)
    # Leases and the idle rule (docs/lifecycle.md).
    default_lease_s: int | None = None
    max_lease_s: int | None = None
    default_reclaim_policy: str = "stop"
    idle_cpu_percent: float | None = None
    idle_period_s: int = 3600
    idle_action: str = "report"
    idle_warning_s: int = 3600


def vm_view(row: VmRow) -> VmView:
    return VmView(
        id=row.id,
        project_id=row.project_id,
        pool_id=row.pool_id,
        name=row.name,
        uuid=row.uuid,
        host_id=row.host_id,
        host_name=row.host.name if row.host is not None else None,
        vcpus=row.vcpus,
        memory_mib=row.memory_mib,
        max_vcpus=row.max_vcpus,
        max_memory_mib=row.max_memory_mib,
        disk_gib=row.disk_gib,
        image=row.image,
        guaranteed=row.guaranteed,
        migratable=row.migratable,
        ha=row.ha,
        disk_storage=row.disk_storage,
        disk_path=row.disk_path,
        seed_path=row.seed_path,
        placement_group=row.placement_group.name if row.placement_group is not None else None,
        domain_type=row.domain_type,
        state=row.state,
        state_changed_at=row.state_changed_at,
        last_error=row.last_error,
        created_at=row.created_at,
        nics=[nic_view(n) for n in row.nics],
        **_lease_fields(row),
        **_hardware_fields(row),
    )


def _hardware_fields(row: VmRow) -> dict[str, Any]:
    return {
        "tpm": row.tpm,
        "sgx_epc_mib": row.sgx_epc_mib,
        "cpu_policy": row.cpu_policy,
        "hugepages": row.hugepages,
        "devices": [{"alias": d.alias, "count": d.count} for d in devices_from_json(row.devices)],
        "machine": row.machine,
    }


def _lease_fields(row: VmRow) -> dict[str, Any]:
    return {
        "lease_expires_at": row.lease_expires_at,
        "reclaim_policy": row.reclaim_policy,
        "idle_since": row.idle_since,
        "idle_warned_at": row.idle_warned_at,
    }


def pool_view(row: PoolRow) -> PoolView:
    return PoolView(
        id=row.id,
        name=row.name,
        cpu_allocation_ratio=row.cpu_allocation_ratio,
        ram_allocation_ratio=row.ram_allocation_ratio,
        disk_allocation_ratio=row.disk_allocation_ratio,
        reserved_vcpus=row.reserved_vcpus,
        reserved_memory_mib=row.reserved_memory_mib,
        reserved_disk_gib=row.reserved_disk_gib,
        strategy=row.strategy,
        rebalance_mode=row.rebalance_mode,
        rebalance_strategy=row.rebalance_strategy,
        rebalance_interval_s=row.rebalance_interval_s,
        rebalance_min_gain=row.rebalance_min_gain,
        rebalance_hysteresis_cycles=row.rebalance_hysteresis_cycles,
        rebalance_cooldown_s=row.rebalance_cooldown_s,
        rebalance_max_moves=row.rebalance_max_moves,
        rebalance_max_memory_mib=row.rebalance_max_memory_mib,
        migration_tls=row.migration_tls,
        members_may_migrate=row.members_may_migrate,
        rebalance_streak=row.rebalance_streak,
        rebalance_last_run_at=row.rebalance_last_run_at,
        rebalance_last_result=row.rebalance_last_result,
        created_at=row.created_at,
        updated_at=row.updated_at,
        etag=etag(row),
        **_pool_lease_fields(row),
    )


def _pool_lease_fields(row: PoolRow) -> dict[str, Any]:
    return {
        "default_lease_s": row.default_lease_s,
        "max_lease_s": row.max_lease_s,
        "default_reclaim_policy": row.default_reclaim_policy,
        "idle_cpu_percent": row.idle_cpu_percent,
        "idle_period_s": row.idle_period_s,
        "idle_action": row.idle_action,
        "idle_warning_s": row.idle_warning_s,
    }
