"""The pool model: hosts, VMs, pools and their allocation policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class HostState(enum.StrEnum):
    UP = "up"
    UNREACHABLE = "unreachable"
    MAINTENANCE = "maintenance"


class VmState(enum.StrEnum):
    # Transitional: written as intent before the hypervisor is called.
    CREATING = "creating"
    STARTING = "starting"
    STOPPING = "stopping"
    SHUTTING_DOWN = "shutting_down"
    REBOOTING = "rebooting"
    DELETING = "deleting"
    # Steady: what the hypervisor reports.
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    CRASHED = "crashed"
    ERROR = "error"

    @property
    def is_transitional(self) -> bool:
        return self in TRANSITIONAL_STATES


TRANSITIONAL_STATES = frozenset(
    {
        VmState.CREATING,
        VmState.STARTING,
        VmState.STOPPING,
        VmState.SHUTTING_DOWN,
        VmState.REBOOTING,
        VmState.DELETING,
    }
)


class DomainType(enum.StrEnum):
    KVM = "kvm"
    QEMU = "qemu"


class PlacementStrategy(enum.StrEnum):
    SPREAD = "spread"
    PACK = "pack"
    BALANCED = "balanced"


@dataclass(frozen=True, slots=True)
class Resources:
    vcpus: float = 0.0
    memory_mib: float = 0.0
    disk_gib: float = 0.0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.vcpus + other.vcpus,
            self.memory_mib + other.memory_mib,
            self.disk_gib + other.disk_gib,
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.vcpus - other.vcpus,
            self.memory_mib - other.memory_mib,
            self.disk_gib - other.disk_gib,
        )

    def fits_in(self, free: Resources) -> bool:
        return (
            self.vcpus <= free.vcpus
            and self.memory_mib <= free.memory_mib
            and self.disk_gib <= free.disk_gib
        )


@dataclass(frozen=True, slots=True)
class AllocationPolicy:
    """How much of a host the pool may hand out, and how it chooses hosts.

    A host's capacity is (physical - reserved) * ratio, as OpenStack computes it;
    the defaults are the ratios OpenStack ships.
    """

    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_vcpus: int = 0
    reserved_memory_mib: int = 512
    reserved_disk_gib: int = 0
    strategy: PlacementStrategy = PlacementStrategy.SPREAD


@dataclass(frozen=True, slots=True)
class RatioOverrides:
    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None


def host_capacity(
    physical: Resources,
    policy: AllocationPolicy,
    overrides: RatioOverrides = RatioOverrides(),
) -> Resources:
    cpu_ratio = overrides.cpu_allocation_ratio or policy.cpu_allocation_ratio
    ram_ratio = overrides.ram_allocation_ratio or policy.ram_allocation_ratio
    disk_ratio = overrides.disk_allocation_ratio or policy.disk_allocation_ratio
    return Resources(
        vcpus=max(0.0, (physical.vcpus - policy.reserved_vcpus) * cpu_ratio),
        memory_mib=max(0.0, (physical.memory_mib - policy.reserved_memory_mib) * ram_ratio),
        disk_gib=max(0.0, (physical.disk_gib - policy.reserved_disk_gib) * disk_ratio),
    )


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """A host as placement sees it: what it has, what is claimed on it, what it offers."""

    id: int
    name: str
    state: HostState
    physical: Resources
    used: Resources
    arch: str = "x86_64"
    domain_types: frozenset[DomainType] = frozenset({DomainType.QEMU})
    traits: frozenset[str] = frozenset()
    overrides: RatioOverrides = RatioOverrides()
    vm_names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class VmRequest:
    vcpus: int
    memory_mib: int
    disk_gib: int = 0
    arch: str | None = None
    domain_type: DomainType | None = None
    required_traits: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] | None = None
    excluded_hosts: frozenset[str] = field(default_factory=frozenset)

    @property
    def resources(self) -> Resources:
        return Resources(float(self.vcpus), float(self.memory_mib), float(self.disk_gib))
