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
    MIGRATING = "migrating"
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
        VmState.MIGRATING,
    }
)


class MigrationState(enum.StrEnum):
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETING = "completing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (MigrationState.COMPLETED, MigrationState.FAILED, MigrationState.CANCELLED)


# The target's capacity stays claimed while a migration is in one of these.
ACTIVE_MIGRATION_STATES = frozenset(
    {
        MigrationState.QUEUED,
        MigrationState.PREPARING,
        MigrationState.RUNNING,
        MigrationState.COMPLETING,
    }
)


class RebalanceMode(enum.StrEnum):
    """What a pool's scheduling loop does with an improving plan."""

    OFF = "off"  # nothing: no cycle runs
    RECOMMEND = "recommend"  # store it; an operator approves it
    AUTO = "auto"  # store it and run it at once


class PlanState(enum.StrEnum):
    PROPOSED = "proposed"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer proposal replaced it before approval

    @property
    def is_final(self) -> bool:
        return self in (PlanState.COMPLETED, PlanState.CANCELLED, PlanState.SUPERSEDED)


class PlanStepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"  # its migration is queued or running
    COMPLETED = "completed"
    SKIPPED = "skipped"  # no longer valid or no longer improving when its turn came
    FAILED = "failed"  # its migration failed or was cancelled
    CANCELLED = "cancelled"  # the plan was cancelled before its turn


def downtime_steps(max_downtime_ms: int, steps: int = 4) -> list[int]:
    """Allowed downtime, raised in steps while a migration does not converge (as Nova
    and oVirt do): start at a quarter of the maximum, end at the maximum."""
    first = max(30, max_downtime_ms // steps)
    if steps <= 1 or first >= max_downtime_ms:
        return [max_downtime_ms]
    return [first + (max_downtime_ms - first) * i // (steps - 1) for i in range(steps)]


def completion_timeout_s(memory_mib: int, seconds_per_gib: int) -> float:
    """Nova's rule: a migration may take `seconds_per_gib` per GiB of guest memory."""
    return max(1.0, memory_mib / 1024) * seconds_per_gib


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


# The range of an allocation ratio (pool or host override), as the API states it.
MIN_RATIO = 0.1
MAX_RATIO = 100.0


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


class GroupPolicy(enum.StrEnum):
    AFFINITY = "affinity"
    ANTI_AFFINITY = "anti-affinity"


@dataclass(frozen=True, slots=True)
class HostOverrides:
    """Per-host exceptions to the pool's policy; None means "as the pool says"."""

    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None
    reserved_vcpus: int | None = None
    reserved_memory_mib: int | None = None


def _pick(override: float | None, default: float) -> float:
    return default if override is None else override


def host_capacity(
    physical: Resources,
    policy: AllocationPolicy,
    overrides: HostOverrides = HostOverrides(),
) -> Resources:
    """(physical - reserved) * ratio, with the host's overrides applied."""
    cpu_ratio = _pick(overrides.cpu_allocation_ratio, policy.cpu_allocation_ratio)
    ram_ratio = _pick(overrides.ram_allocation_ratio, policy.ram_allocation_ratio)
    disk_ratio = _pick(overrides.disk_allocation_ratio, policy.disk_allocation_ratio)
    reserved_cpu = _pick(overrides.reserved_vcpus, policy.reserved_vcpus)
    reserved_mem = _pick(overrides.reserved_memory_mib, policy.reserved_memory_mib)
    return Resources(
        vcpus=max(0.0, (physical.vcpus - reserved_cpu) * cpu_ratio),
        memory_mib=max(0.0, (physical.memory_mib - reserved_mem) * ram_ratio),
        disk_gib=max(0.0, (physical.disk_gib - policy.reserved_disk_gib) * disk_ratio),
    )


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """A host as placement sees it: what it offers, what is claimed on it.

    `capacity` is already (physical - reserved) * ratio; `used` counts each
    guaranteed VM at ratio 1.0, i.e. its vCPUs and memory times the host's ratio.
    """

    id: int
    name: str
    state: HostState
    capacity: Resources
    used: Resources
    cpu_ratio: float = 1.0
    ram_ratio: float = 1.0
    arch: str = "x86_64"
    domain_types: frozenset[DomainType] = frozenset({DomainType.QEMU})
    traits: frozenset[str] = frozenset()

    @property
    def free(self) -> Resources:
        return self.capacity - self.used


def make_host_snapshot(
    *,
    id: int,
    name: str,
    state: HostState,
    physical: Resources,
    policy: AllocationPolicy,
    overrides: HostOverrides = HostOverrides(),
    shared_use: Resources = Resources(),
    dedicated_use: Resources = Resources(),
    arch: str = "x86_64",
    domain_types: frozenset[DomainType] = frozenset({DomainType.QEMU}),
    traits: frozenset[str] = frozenset(),
) -> HostSnapshot:
    """A snapshot from raw figures: `dedicated_use` is what guaranteed VMs asked for."""
    cpu_ratio = _pick(overrides.cpu_allocation_ratio, policy.cpu_allocation_ratio)
    ram_ratio = _pick(overrides.ram_allocation_ratio, policy.ram_allocation_ratio)
    if dedicated_use.vcpus or dedicated_use.memory_mib or dedicated_use.disk_gib:
        used = shared_use + Resources(
            dedicated_use.vcpus * cpu_ratio,
            dedicated_use.memory_mib * ram_ratio,
            dedicated_use.disk_gib,
        )
    else:
        used = shared_use
    return HostSnapshot(
        id=id,
        name=name,
        state=state,
        capacity=host_capacity(physical, policy, overrides),
        used=used,
        cpu_ratio=cpu_ratio,
        ram_ratio=ram_ratio,
        arch=arch,
        domain_types=domain_types,
        traits=traits,
    )


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A placement group the new VM joins, and where its members run now."""

    name: str
    policy: GroupPolicy
    hard: bool
    members_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # host name -> VM names


@dataclass(frozen=True, slots=True)
class VmRequest:
    vcpus: int
    memory_mib: int
    disk_gib: int = 0
    guaranteed: bool = False
    arch: str | None = None
    domain_type: DomainType | None = None
    required_traits: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] | None = None
    excluded_hosts: frozenset[str] = field(default_factory=frozenset)
    group: GroupRule | None = None

    def claim_on(self, host: HostSnapshot) -> Resources:
        """What this VM takes from `host`: a guaranteed VM counts at ratio 1.0."""
        if self.guaranteed:
            return Resources(
                self.vcpus * host.cpu_ratio, self.memory_mib * host.ram_ratio, self.disk_gib
            )
        return Resources(float(self.vcpus), float(self.memory_mib), float(self.disk_gib))
