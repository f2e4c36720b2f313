"""The pool model: hosts, VMs, pools and their allocation policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from vmpool.domain.cpu_pinning import (
    NO_SPLIT,
    HostCpuSets,
    ordinary_memory_claim_mib,
    ordinary_memory_mib,
)
from vmpool.domain.hardware import (
    NO_HARDWARE,
    NO_USE,
    PLAIN,
    CpuPolicy,
    HardwareRequest,
    HardwareUse,
    HostHardware,
)
from vmpool.domain.host import HostState


class RebalanceMode(enum.StrEnum):
    """What a pool's scheduling loop does with an improving plan."""

    OFF = "off"  # nothing: no cycle runs
    RECOMMEND = "recommend"  # store it; an operator approves it
    AUTO = "auto"  # store it and run it at once


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


# The trait of a host that mounts the pool's shared storage; a VM whose disk is there needs it.
SHARED_STORAGE_TRAIT = "shared-storage"


def split_list(text: str) -> list[str]:
    """A stored comma list (traits, domain types) as its items."""
    return sorted(item for item in text.split(",") if item)


def claim(
    vcpus: float, memory_mib: float, guaranteed: bool, cpu_ratio: float, ram_ratio: float
) -> tuple[float, float]:
    """(vCPUs, memory) a VM takes from a host's capacity, which is already scaled by the
    host's allocation ratios: a guaranteed VM gets its resources at ratio 1.0, so it claims
    them times the ratios. The one place this rule is written."""
    if guaranteed:
        return vcpus * cpu_ratio, memory_mib * ram_ratio
    return float(vcpus), float(memory_mib)


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
class PlacementHost:
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
    networks: frozenset[str] = frozenset()  # the networks it offers NICs, by name
    # Special hardware (domain/hardware.py): what it offers, what is claimed of it.
    hardware: HostHardware = NO_HARDWARE
    hardware_use: HardwareUse = NO_USE
    cpu_sets: HostCpuSets = NO_SPLIT  # its dedicated and shared CPUs (domain/cpu_pinning.py)

    @property
    def free(self) -> Resources:
        return self.capacity - self.used


def make_placement_host(
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
    networks: frozenset[str] = frozenset(),
    hardware: HostHardware = NO_HARDWARE,
    hardware_use: HardwareUse = NO_USE,
    cpu_sets: HostCpuSets = NO_SPLIT,
) -> PlacementHost:
    """A placement host from raw figures: `dedicated_use` is what guaranteed VMs asked for;
    `physical` memory includes the huge pages its `hardware` reports, which are left out of
    its ordinary memory capacity here (and only here)."""
    cpu_ratio = _pick(overrides.cpu_allocation_ratio, policy.cpu_allocation_ratio)
    ram_ratio = _pick(overrides.ram_allocation_ratio, policy.ram_allocation_ratio)
    if dedicated_use.vcpus or dedicated_use.memory_mib or dedicated_use.disk_gib:
        v, m = claim(dedicated_use.vcpus, dedicated_use.memory_mib, True, cpu_ratio, ram_ratio)
        used = shared_use + Resources(v, m, dedicated_use.disk_gib)
    else:
        used = shared_use
    if hardware.cells:
        # the memory its huge pages hold is not ordinary memory (domain/cpu_pinning.py)
        physical = Resources(
            physical.vcpus, ordinary_memory_mib(physical.memory_mib, hardware.cells),
            physical.disk_gib,
        )  # fmt: skip
    return PlacementHost(
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
        networks=networks,
        hardware=hardware,
        hardware_use=hardware_use,
        cpu_sets=cpu_sets,
    )


def group_admits(policy: GroupPolicy, members_on_target: int, other_members: int) -> bool:
    """The hard rule of a placement group, for one member joining a host: anti-affinity
    admits it only where no other member runs; affinity only where the others run (anywhere
    while there are none). The one place placement and the planner take it from."""
    if policy is GroupPolicy.ANTI_AFFINITY:
        return members_on_target == 0
    return members_on_target > 0 or other_members == 0


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A placement group the new VM joins, and where its members run now."""

    name: str
    policy: GroupPolicy
    hard: bool
    members_on: dict[str, tuple[str, ...]] = field(default_factory=dict)  # host name -> VM names


@dataclass(frozen=True, slots=True)
class PlacementRequirements:
    vcpus: int
    memory_mib: int
    disk_gib: int = 0
    guaranteed: bool = False
    arch: str | None = None
    domain_type: DomainType | None = None
    required_traits: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()  # of its NICs: every host it runs on offers them
    allowed_hosts: frozenset[str] | None = None
    excluded_hosts: frozenset[str] = field(default_factory=frozenset)
    group: GroupRule | None = None
    hardware: HardwareRequest = PLAIN  # TPM, SGX, dedicated CPUs, huge pages, devices

    def ordinary_need(self) -> tuple[int, int]:
        """(vCPUs, MiB) this VM takes from a host's vCPU and ordinary memory capacity, before
        ratios: a dedicated VM's vCPUs count against the host's dedicated CPUs instead, a
        huge-page VM's memory against its huge pages (domain/cpu_pinning.py)."""
        vcpus = 0 if self.hardware.cpu_policy is CpuPolicy.DEDICATED else self.vcpus
        return vcpus, ordinary_memory_claim_mib(self.memory_mib, self.hardware.hugepages)

    def claim_on(self, host: PlacementHost) -> Resources:
        """What this VM takes from `host`: a guaranteed VM counts at ratio 1.0; see
        `ordinary_need` for dedicated CPUs and huge pages."""
        vcpus, memory = self.ordinary_need()
        v, m = claim(vcpus, memory, self.guaranteed, host.cpu_ratio, host.ram_ratio)
        return Resources(v, m, float(self.disk_gib))
