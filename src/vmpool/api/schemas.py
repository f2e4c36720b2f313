"""Request and response bodies. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vmpool.domain import lease as LEASE
from vmpool.domain import limits as L
from vmpool.domain.cluster_state import Strategy
from vmpool.domain.host import HostState
from vmpool.domain.host_uri import HOST_URI_PATTERN, MAX_URI_LENGTH
from vmpool.domain.limits import MAX_ID
from vmpool.domain.migration import MigrationState
from vmpool.domain.model import GroupPolicy, PlacementStrategy, RebalanceMode
from vmpool.domain.names import FOLDER_PATTERN, NAME_PATTERN, TRAIT_PATTERN
from vmpool.domain.network import BRIDGE_PATTERN, MAX_NICS
from vmpool.domain.seed import MAX_NETWORK_CONFIG, MAX_SSH_KEYS, MAX_USER_DATA, SSH_KEY_PATTERN
from vmpool.domain.vm import VmState

# Ids are INTEGER columns: 32-bit on PostgreSQL, so nothing has a larger one.
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _wants_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_wants_int(a) for a in get_args(annotation) if a is not float)


Trait = Annotated[str, Field(max_length=63, pattern=TRAIT_PATTERN)]
ReclaimPolicyIn = Literal["stop", "delete", "snapshot_then_delete"]


class Paged(BaseModel):
    """A page of a list (at most `limit` items, by id); pass `next_after` as `after` for the
    next one."""

    next_after: int | None = Field(default=None, description="null: this is the last page")


class Strict(BaseModel):
    """Request bodies: unknown fields refused, and JSON types taken as the schema states them:
    no `true` for an integer, no `0` for a boolean, no `"3"` for a number. An integral
    number such as `3.0` is an integer, as in JSON Schema."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integral_floats(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if isinstance(value, float) and value.is_integer() and name is not None:
            return int(value) if _wants_int(cls.model_fields[name].annotation) else value
        return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. no_capacity")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    error: ErrorDetail


MigrationAddress = Annotated[
    str,
    Field(
        max_length=255,
        pattern=r"^[A-Za-z0-9.:\[\]-]+$",
        description="address other hosts send migration data to (default: the URI's host)",
    ),
]


PeerUri = Annotated[
    str,
    Field(
        max_length=MAX_URI_LENGTH,
        pattern=HOST_URI_PATTERN,
        description="the URI other hosts' libvirtd use to reach it for a peer-to-peer "
        "migration, if not `uri` (e.g. qemu+tls://NAME-ON-THE-MIGRATION-NETWORK/system)",
    ),
]


class HostCreate(Strict):
    uri: str = Field(
        max_length=MAX_URI_LENGTH,
        pattern=HOST_URI_PATTERN,
        description="libvirt URI: qemu:///system, qemu+ssh://..., qemu+tls://..., qemu+unix:///, "
        "qemu+tcp://... when allowed; the accepted parameters are in docs/security.md",
        examples=["qemu+tcp://127.0.0.1:16510/system"],
    )
    name: str | None = Field(default=None, max_length=63, pattern=NAME_PATTERN)
    pool_id: DbId | None = None
    migration_address: MigrationAddress | None = None
    peer_uri: PeerUri | None = None


class ResourcesOut(Out):
    vcpus: float
    memory_mib: float
    disk_gib: float


class ForeignDomainOut(Out):
    uuid: str
    name: str
    state: str
    first_seen_at: datetime
    last_seen_at: datetime


class HostOverridesOut(Out):
    cpu_allocation_ratio: float | None
    ram_allocation_ratio: float | None
    disk_allocation_ratio: float | None
    reserved_vcpus: int | None
    reserved_memory_mib: int | None


class EvacuationItemOut(Out):
    vm_id: int
    vm_name: str
    state: str = Field(description="migration state, or pending / stays")
    migration_id: int | None
    target_host: str | None
    error: str | None = Field(description="why this VM did not (yet) move")


class EvacuationOut(Out):
    status: str = Field(description="evacuating, done or incomplete")
    vms_remaining: int
    items: list[EvacuationItemOut]


class HugePagesOut(Out):
    size_kib: int
    total: int
    free: int = Field(description="as libvirt last reported")
    claimed: int = Field(0, description="pages claimed on this cell by VMs bound to it")


class HostHugePagesOut(Out):
    size_kib: int
    total: int = Field(description="pages of this size on the host, as libvirt last reported")
    claimed: int = Field(description="pages claimed by vmpool's VMs, bound to a cell or not")
    available: int = Field(description="total - claimed: what placement offers")


class NumaCellOut(Out):
    id: int
    cpus: list[int]
    memory_mib: int
    hugepages: list[HugePagesOut]


class HostOut(Out):
    id: int
    pool_id: int
    name: str
    uri: str
    state: HostState = Field(
        description="up, unreachable, maintenance or fenced (known to be off, after a failure)"
    )
    host_uuid: str
    hostname: str
    arch: str
    cpus: int
    memory_mib: int
    disk_gib: int
    domain_types: list[str] = Field(description="kvm and/or qemu (TCG)")
    traits: list[str] = Field(description="discovered from libvirt, plus operator_traits")
    operator_traits: list[str]
    networks: list[str] = Field(description="the networks it offers NICs, as the sync found")
    overrides: HostOverridesOut
    cpu_model: str
    libvirt_version: str
    hypervisor_version: str
    capacity: ResourcesOut = Field(description="(physical - reserved) * allocation ratio")
    allocated: ResourcesOut
    vm_count: int
    last_seen_at: datetime | None
    last_error: str | None
    next_check_at: datetime | None
    migration_address: str | None = Field(description="migration data goes to tcp://ADDRESS")
    peer_uri: str | None = Field(description="other hosts reach it here to migrate (else uri)")
    local_disk_path: str | None = Field(description="VM disks on this host (null: the default)")
    shared_disk_path: str | None = Field(description="shared storage as mounted on this host")
    maintenance_since: datetime | None
    fenced_at: datetime | None = Field(description="when it was known to be off")
    fenced_by: str | None = Field(description="operator (POST .../fence) or command")
    fence_command: list[str] | None
    evacuation: EvacuationOut | None = Field(description="while in maintenance")
    foreign_domains: list[ForeignDomainOut] = Field(
        description="domains on the host that vmpool did not define (reported, not adopted)"
    )
    created_at: datetime
    cpu_dedicated_set: str | None = Field(
        default=None, description="CPUs for dedicated VMs, one per vCPU (Nova's syntax)"
    )
    cpu_shared_set: str | None = Field(
        default=None, description="CPUs for shared vCPUs and emulator threads (null: the rest)"
    )
    pinned_cpus: list[int] = Field(default=[], description="CPUs held by dedicated VMs")
    numa_cells: list[NumaCellOut] = Field(default=[], description="as libvirt reports them")
    hugepages: list[HostHugePagesOut] = Field(
        default=[],
        description="huge pages by size, all cells; their memory is left out of capacity",
    )


class HostList(Paged):
    items: list[HostOut]


MacAddress = Annotated[
    str,
    Field(
        min_length=17,
        max_length=17,
        pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$",
        description="unicast; vmpool hands one out if none is given",
        examples=["52:54:00:12:34:56"],
    ),
]


class NicCreate(Strict):
    network: str = Field(max_length=63, pattern=NAME_PATTERN, description="a network's name")
    mac: MacAddress | None = None
    ipv4: str | None = Field(
        default=None,
        max_length=15,
        description="an address of the network's IPv4 subnet; "
        "vmpool hands out the lowest free one if none is given",
    )
    ipv6: str | None = Field(default=None, max_length=39)
    model: Literal["virtio", "e1000", "rtl8139"] = "virtio"


class NicOut(Out):
    id: int
    vm_id: int
    network: str
    mac: str
    model: str
    ipv4: str | None
    ipv6: str | None
    state: str = Field(description="attaching, attached or detaching")
    last_error: str | None


class NicList(BaseModel):
    items: list[NicOut]


class _NetworkCommon(Strict):
    name: str = Field(max_length=63, pattern=NAME_PATTERN, examples=["lab"])
    ipv4_cidr: str | None = Field(default=None, max_length=18, examples=["10.232.0.0/24"])
    ipv4_gateway: str | None = Field(default=None, max_length=15)
    ipv6_cidr: str | None = Field(default=None, max_length=43)
    ipv6_gateway: str | None = Field(default=None, max_length=39)
    project_id: DbId | None = Field(
        default=None, description="only this project's VMs may use it; null: shared by all"
    )


class BridgeNetworkCreate(_NetworkCommon):
    """A Linux bridge the hosts have (by name); vmpool finds which hosts have it."""

    kind: Literal["bridge"]
    bridge: str = Field(max_length=15, pattern=BRIDGE_PATTERN, examples=["br0"])


class LibvirtNetworkCreate(_NetworkCommon):
    """A libvirt network vmpool defines on every host (its own bridge, vmp<10 hex>)."""

    kind: Literal["libvirt"]
    mode: Literal["isolated", "routed"] = Field(
        default="isolated", description="routed: the host routes the subnet (needs a gateway)"
    )


# One or the other by `kind` (a pydantic discriminator would not take Strict's validator).
NetworkCreate = BridgeNetworkCreate | LibvirtNetworkCreate


class NetworkOut(Out):
    id: int
    name: str
    kind: str
    bridge: str = Field(description="the Linux bridge NICs join (vmp<hex> for kind libvirt)")
    project_id: int | None = Field(description="null: shared by every project")
    mode: str | None
    ipv4_cidr: str | None
    ipv4_gateway: str | None
    ipv6_cidr: str | None
    ipv6_gateway: str | None
    hosts: list[str] = Field(description="the hosts that offer it, as last found")
    nic_count: int
    created_at: datetime


class NetworkList(Paged):
    items: list[NetworkOut]


class DeviceRequestIn(Strict):
    alias: Trait = Field(description="an alias an operator gave assignable devices, e.g. gpu:a100")
    count: int = Field(default=1, ge=1, le=L.DEVICES_PER_VM.high)


class VmCreate(Strict):
    name: str = Field(max_length=63, pattern=NAME_PATTERN, examples=["web-1"])
    vcpus: int = Field(ge=L.VCPUS.low, le=L.VCPUS.high)
    memory_mib: int = Field(ge=L.MEMORY_MIB.low, le=L.MEMORY_MIB.high)
    max_vcpus: int | None = Field(
        default=None,
        ge=L.VCPUS.low,
        le=L.VCPUS.high,
        description="hot-plug: the vCPUs it may grow to while it runs (PATCH); at least vcpus; "
        "default: vcpus",
    )
    max_memory_mib: int | None = Field(
        default=None,
        ge=L.MEMORY_MIB.low,
        le=L.MEMORY_MIB.high,
        description="hot-plug: the memory it may grow to while it runs, through the balloon "
        "(the guest boots with it and gives back what it does not have); at least memory_mib; "
        "default: memory_mib",
    )
    disk_gib: int = Field(default=0, ge=L.DISK_GIB.low, le=L.DISK_GIB.high)
    image: str | None = Field(
        default=None,
        max_length=63,
        pattern=NAME_PATTERN,
        description="a catalog image (`/v1/images`): the boot disk is an overlay of it, of "
        "disk_gib (0: the image's size) or more; or a kernel boot image of the image_dir; "
        "without one the VM idles in its firmware",
    )
    pool_id: DbId | None = None
    guaranteed: bool = Field(
        default=False, description="dedicated: vCPUs and memory count at ratio 1.0"
    )
    arch: str | None = Field(default=None, max_length=32, pattern=r"^[a-z0-9_]+$")
    kvm_only: bool = Field(default=False, description="only hosts with KVM (no TCG)")
    traits: list[Trait] = Field(
        default_factory=list, max_length=32, description="required host traits, e.g. tpm"
    )
    hosts: list[Annotated[str, Field(max_length=63, pattern=NAME_PATTERN)]] | None = Field(
        default=None, max_length=1000, description="place only on one of these hosts"
    )
    placement_group: str | None = Field(default=None, max_length=63, pattern=NAME_PATTERN)
    migratable: bool = Field(default=True, description="false pins the VM to its host")
    ha: bool = Field(
        default=False,
        description="when its host fails and is fenced, start it on another host (its disks "
        "must all be on shared storage)",
    )
    tpm: bool = Field(default=False, description="an emulated TPM 2.0 (swtpm); docs/hardware.md")
    sgx_epc_mib: int = Field(
        default=0, ge=0, le=L.SGX_EPC_MIB.high, description="SGX enclave page cache (0: no SGX)"
    )
    cpu_policy: Literal["shared", "dedicated"] = Field(
        default="shared",
        description="dedicated: each vCPU gets a whole host CPU of the host's dedicated set, "
        "pinned",
    )
    hugepages: Literal["2M", "1G"] | None = Field(
        default=None, description="back its memory with huge pages of this size"
    )
    devices: list[DeviceRequestIn] = Field(
        default_factory=list,
        max_length=int(L.DEVICES_PER_VM.high),
        description="assignable PCI devices by alias (passthrough)",
    )
    disk_storage: Literal["local", "shared"] = Field(
        default="local",
        description="with disk_gib > 0: a disk on the host's local or shared storage",
    )
    kernel_args: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.=,:/-]{1,128}$")]] = Field(
        default_factory=list, max_length=16, description="added to the image's kernel command line"
    )
    user_data: str | None = Field(
        default=None,
        max_length=MAX_USER_DATA,
        description="cloud-init user data (e.g. #cloud-config), on the VM's NoCloud seed CD-ROM",
    )
    ssh_keys: list[Annotated[str, Field(max_length=4500, pattern=SSH_KEY_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_SSH_KEYS, description="public keys, via meta-data"
    )
    network_config: str | None = Field(
        default=None,
        max_length=MAX_NETWORK_CONFIG,
        description="cloud-init network-config; by default, for a VM booted from a catalog "
        "image, vmpool writes one with its NICs' addresses",
    )
    nics: list[NicCreate] = Field(
        default_factory=list, max_length=MAX_NICS, description="network interfaces, in order"
    )
    project_id: DbId | None = Field(
        default=None,
        description="an admin's choice (default: the default project); a member's VM goes to "
        "its own project",
    )
    # Its lease (docs/lifecycle.md): one of the two, else the pool's default_lease_s.
    lease_s: int | None = Field(
        default=None,
        ge=LEASE.LEASE_S.low,
        le=LEASE.LEASE_S.high,
        description="a lease of this many seconds from now (not with lease_expires_at)",
    )
    lease_expires_at: AwareDatetime | None = Field(
        default=None,
        strict=False,
        description="when its lease ends (RFC 3339 with a time zone; not with lease_s); "
        "within the pool's max_lease_s",
    )
    reclaim_policy: ReclaimPolicyIn | None = Field(
        default=None,
        description="what happens when the lease ends: stop, delete or snapshot_then_delete "
        "(its disks kept as catalog images of its project); default: the pool's",
    )


class LeaseRenew(Strict):
    """A new end for a VM's lease: `lease_s` from now, or `until` an instant."""

    lease_s: int | None = Field(default=None, ge=LEASE.LEASE_S.low, le=LEASE.LEASE_S.high)
    until: AwareDatetime | None = Field(default=None, strict=False)


class VmOut(Out):
    id: int
    project_id: int
    pool_id: int
    name: str
    uuid: str = Field(description="the libvirt domain UUID")
    host_id: int | None
    host_name: str | None
    vcpus: int = Field(description="current vCPUs: what its host's claim counts")
    memory_mib: int = Field(description="current memory: what its host's claim counts")
    max_vcpus: int = Field(description="the vCPUs it may grow to (PATCH)")
    max_memory_mib: int = Field(description="the memory it may grow to (PATCH)")
    disk_gib: int
    image: str | None
    guaranteed: bool
    migratable: bool
    ha: bool
    disk_storage: str | None
    disk_path: str | None
    seed_path: str | None = Field(description="the first-boot seed volume (NoCloud), if any")
    placement_group: str | None
    domain_type: str
    state: VmState
    state_changed_at: datetime
    last_error: str | None
    created_at: datetime
    nics: list[NicOut]
    lease_expires_at: datetime | None = Field(
        default=None, description="when its lease ends; null: no lease"
    )
    reclaim_policy: str | None = Field(
        default=None, description="applied when the lease ends: stop, delete, snapshot_then_delete"
    )
    idle_since: datetime | None = Field(
        default=None, description="since when its CPU stays under its pool's idle threshold"
    )
    idle_warned_at: datetime | None = Field(
        default=None,
        description="when it was reported idle (idle_since + the pool's idle_period_s); with "
        "the pool's idle_action reclaim, its reclaim follows idle_warning_s later",
    )
    tpm: bool = False
    sgx_epc_mib: int = 0
    cpu_policy: str = "shared"
    hugepages: str | None = None
    devices: list[DeviceRequestIn] = Field(default_factory=list)
    machine: str | None = Field(default=None, description="its machine type, from its host")


class ImageOut(Out):
    id: int
    name: str
    state: str = Field(description="uploading, available or deleting")
    format: str = Field(description="raw or qcow2, pinned at upload")
    size_bytes: int = Field(description="bytes the image file takes")
    virtual_size_bytes: int = Field(description="bytes of the disk the guest sees")
    sha256: str
    hosts: list[str] = Field(description="hosts that hold a copy")
    created_by: str
    created_at: datetime
    stored_at: datetime | None


class ImageList(Paged):
    items: list[ImageOut]


class DiskCreate(Strict):
    size_gib: int = Field(ge=L.DATA_DISK_GIB.low, le=L.DATA_DISK_GIB.high)
    storage: Literal["local", "shared"] = Field(
        default="local", description="local: on the VM's host; shared: in the shared folder"
    )


class VmResize(Strict):
    """New current sizes, within the VM's maxima: live while it runs, in its definition
    while it is stopped. Fields not given stay."""

    vcpus: int | None = Field(default=None, ge=L.VCPUS.low, le=L.VCPUS.high)
    memory_mib: int | None = Field(default=None, ge=L.MEMORY_MIB.low, le=L.MEMORY_MIB.high)


class DiskResize(Strict):
    size_gib: int = Field(
        ge=L.DATA_DISK_GIB.low, le=L.DATA_DISK_GIB.high, description="larger only: no shrink"
    )


class DiskOut(Out):
    id: int
    vm_id: int
    target: str = Field(description="the device name the guest sees, e.g. vdb")
    size_gib: int
    storage: str
    path: str | None = Field(description="the volume on the host (admins only)")
    state: str = Field(description="attaching, attached, resizing or detaching")
    last_error: str | None
    created_at: datetime


class DiskList(BaseModel):
    items: list[DiskOut]


class SnapshotCreate(Strict):
    name: str = Field(max_length=63, pattern=NAME_PATTERN, examples=["before-upgrade"])
    description: str = Field(
        default="", max_length=255,
        description="free text, kept by vmpool only (never in libvirt's XML), shown verbatim",
    )  # fmt: skip
    include_memory: bool | None = Field(
        default=None,
        description="a running VM's snapshot holds its memory (true, the default; false is "
        "refused: libvirt takes internal snapshots of a running VM with its memory only); a "
        "stopped VM's holds its disks only (false, the default)",
    )


class SnapshotOut(Out):
    id: int
    vm_id: int
    name: str
    description: str
    with_memory: bool = Field(description="reverting resumes the VM where it was")
    size_gib: int = Field(description="what it may take on its storage, claimed there")
    state: str = Field(description="creating, ready, reverting, deleting or error")
    last_error: str | None
    created_by: str
    created_at: datetime


class SnapshotList(BaseModel):
    items: list[SnapshotOut]


class VmPage(BaseModel):
    items: list[VmOut]
    next_after: int | None = Field(
        description="pass as `after` to get the next page; null on the last page"
    )


class PoolOut(Out):
    id: int
    name: str
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    reserved_vcpus: int
    reserved_memory_mib: int
    reserved_disk_gib: int
    strategy: str
    rebalance_mode: str = Field(description="off | recommend | auto")
    rebalance_strategy: str = Field(description="balance | consolidate")
    rebalance_interval_s: int
    rebalance_min_gain: float
    rebalance_hysteresis_cycles: int
    rebalance_cooldown_s: int
    rebalance_max_moves: int
    rebalance_max_memory_mib: int = Field(description="memory a plan may copy; 0: no budget")
    migration_tls: bool
    members_may_migrate: bool
    rebalance_streak: int = Field(
        description="consecutive cycles that found an improving plan (hysteresis)"
    )
    rebalance_last_run_at: datetime | None
    rebalance_last_result: str | None = Field(description="what the last cycle decided")
    default_lease_s: int | None = Field(default=None, description="a new VM's lease; null: none")
    max_lease_s: int | None = Field(
        default=None, description="the furthest a lease may reach from now; null: no limit"
    )
    default_reclaim_policy: str = Field(default="stop")
    idle_cpu_percent: float | None = Field(
        default=None, description="the idle rule's CPU threshold; null: no idle rule"
    )
    idle_period_s: int = 3600
    idle_action: str = Field(default="report", description="report | reclaim")
    idle_warning_s: int = 3600


class PoolList(Paged):
    items: list[PoolOut]


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    role: Literal["single", "leader", "follower"] = Field(
        description="single: the one daemon (SQLite); leader: runs the jobs; follower: "
        "serves the API, the leader runs the jobs"
    )
    generation: int | None = Field(description="the leader's generation, on the leader")


Ratio = Annotated[float, Field(ge=L.RATIO.low, le=L.RATIO.high, allow_inf_nan=False)]
Reserved = Annotated[int, Field(ge=L.RESERVED.low, le=L.RESERVED.high)]


class PoolPolicyIn(Strict):
    cpu_allocation_ratio: Ratio | None = Field(default=None, description="default 4.0")
    ram_allocation_ratio: Ratio | None = Field(default=None, description="default 1.0")
    disk_allocation_ratio: Ratio | None = Field(default=None, description="default 1.0")
    reserved_vcpus: Reserved | None = Field(default=None, description="per host, for the host")
    reserved_memory_mib: Reserved | None = Field(default=None, description="per host")
    reserved_disk_gib: Reserved | None = None
    strategy: PlacementStrategy | None = Field(
        default=None, strict=False, description="spread, pack, balanced"
    )
    rebalance_mode: RebalanceMode | None = Field(
        default=None,
        strict=False,
        description="the scheduling loop: off (default), recommend or auto",
    )
    rebalance_strategy: Strategy | None = Field(
        default=None, strict=False, description="balance (default) or consolidate"
    )
    rebalance_interval_s: int | None = Field(
        default=None,
        ge=L.REBALANCE_INTERVAL_S.low,
        le=L.REBALANCE_INTERVAL_S.high,
        description="seconds between cycles; default 300",
    )
    rebalance_min_gain: float | None = Field(
        default=None,
        ge=L.MIN_GAIN.low,
        le=L.MIN_GAIN.high,
        description="least score gain of a move; default 0.01",
    )
    rebalance_hysteresis_cycles: int | None = Field(
        default=None,
        ge=L.HYSTERESIS_CYCLES.low,
        le=L.HYSTERESIS_CYCLES.high,
        description="consecutive cycles an imbalance must persist before acting; default 3",
    )
    rebalance_cooldown_s: int | None = Field(
        default=None,
        ge=L.COOLDOWN_S.low,
        le=L.COOLDOWN_S.high,
        description="a VM moved this recently is not moved again; default 1800",
    )
    rebalance_max_moves: int | None = Field(
        default=None,
        ge=L.MAX_MOVES.low,
        le=L.MAX_MOVES.high,
        description="migrations per plan; default 5",
    )
    rebalance_max_memory_mib: int | None = Field(
        default=None,
        ge=L.MAX_MEMORY_MIB.low,
        le=L.MAX_MEMORY_MIB.high,
        description="MiB a plan may copy (the moved VMs' memory); 0 (default): no memory "
        "budget. With a memory budget the planner takes the most gain per MiB",
    )
    migration_tls: bool | None = Field(
        default=None,
        description="QEMU encrypts migration data (VIR_MIGRATE_TLS); the hosts need TLS "
        "certificates (docs/security.md)",
    )
    members_may_migrate: bool | None = Field(
        default=None, description="project members may ask to migrate their VMs (no target)"
    )
    # Leases and the idle rule (docs/lifecycle.md); null clears the three nullable ones.
    default_lease_s: int | None = Field(
        default=None,
        ge=LEASE.LEASE_S.low,
        le=LEASE.LEASE_S.high,
        description="the lease (seconds) a new VM gets unless it asks; null: none",
    )
    max_lease_s: int | None = Field(
        default=None,
        ge=LEASE.LEASE_S.low,
        le=LEASE.LEASE_S.high,
        description="the furthest from now a lease may reach (create, renew); null: no limit",
    )
    default_reclaim_policy: ReclaimPolicyIn | None = Field(
        default=None, description="stop (default), delete or snapshot_then_delete"
    )
    idle_cpu_percent: float | None = Field(
        default=None,
        ge=LEASE.IDLE_CPU_PERCENT.low,
        le=LEASE.IDLE_CPU_PERCENT.high,
        allow_inf_nan=False,
        description="a running VM whose smoothed CPU (percent of its vCPUs) stays under this "
        "is idle; null: no idle rule",
    )
    idle_period_s: int | None = Field(
        default=None,
        ge=LEASE.IDLE_PERIOD_S.low,
        le=LEASE.IDLE_PERIOD_S.high,
        description="how long under the threshold makes it idle; default 3600",
    )
    idle_action: Literal["report", "reclaim"] | None = Field(
        default=None,
        description="report (default): an event and the API; reclaim: then a "
        "warning, and its reclaim policy idle_warning_s later",
    )
    idle_warning_s: int | None = Field(
        default=None,
        ge=LEASE.IDLE_WARNING_S.low,
        le=LEASE.IDLE_WARNING_S.high,
        description="between the idle warning and the reclaim; default 3600",
    )


class PoolCreate(PoolPolicyIn):
    name: str = Field(max_length=63, pattern=NAME_PATTERN)


class HostRoomOut(BaseModel):
    host: str
    count: int


class RejectionOut(BaseModel):
    filter: str
    hosts: int
    reason: str


class CapacityOut(BaseModel):
    vcpus: int
    memory_mib: int
    disk_gib: int
    total: int = Field(description="how many more VMs of this size the pool can take")
    per_host: list[HostRoomOut]
    rejections: list[RejectionOut]


CpuSet = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[0-9^,\- ]+$")]


class HostUpdate(Strict):
    """Per-host overrides; null clears one (back to the pool's value)."""

    cpu_allocation_ratio: Ratio | None = None
    ram_allocation_ratio: Ratio | None = None
    disk_allocation_ratio: Ratio | None = None
    reserved_vcpus: Reserved | None = None
    reserved_memory_mib: Reserved | None = None
    operator_traits: list[Annotated[str, Field(max_length=63, pattern=TRAIT_PATTERN)]] | None = (
        Field(default=None, max_length=64, description="traits set by an operator, e.g. gpu:a100")
    )
    migration_address: MigrationAddress | None = None
    peer_uri: PeerUri | None = None
    local_disk_path: str | None = Field(default=None, max_length=255, pattern=FOLDER_PATTERN)
    shared_disk_path: str | None = Field(
        default=None,
        max_length=255,
        pattern=FOLDER_PATTERN,
        description="the same path on every host that shares it",
    )
    fence_command: list[Annotated[str, Field(min_length=1, max_length=1024)]] | None = Field(
        default=None,
        max_length=32,
        description="the program (absolute path) and arguments that power this host off, "
        "e.g. a fence agent; run without a shell, with VMPOOL_HOST_NAME and VMPOOL_HOST_URI, "
        "once the host has not answered for fence_after_s; exit 0 fences it. null or [] "
        "removes it",
    )
    cpu_dedicated_set: CpuSet | None = Field(
        default=None,
        description="host CPUs for dedicated VMs (cpu_policy dedicated), e.g. 2-7,^4; null: "
        "none. A CPU pinned to a VM cannot leave it (409)",
    )
    cpu_shared_set: CpuSet | None = Field(
        default=None,
        description="host CPUs for shared vCPUs and emulator threads; null: those outside "
        "cpu_dedicated_set",
    )


class GroupCreate(Strict):
    name: str = Field(max_length=63, pattern=NAME_PATTERN)
    policy: GroupPolicy = Field(strict=False)
    hard: bool = Field(description="true: must; false: prefer")
    pool_id: DbId | None = None
    project_id: DbId | None = Field(default=None, description="an admin's choice, as for VMs")


class GroupOut(Out):
    id: int
    project_id: int
    pool_id: int
    name: str
    policy: str
    hard: bool
    members: dict[str, list[str]] = Field(
        description="host name -> names of member VMs on it (admins only)"
    )


class GroupList(Paged):
    items: list[GroupOut]


class EventOut(Out):
    id: int
    at: datetime
    actor: str
    kind: str
    subject: str
    project_id: int | None
    request_id: str | None = Field(description="the API request that made it (X-Request-ID)")
    details: dict[str, Any]


class EventList(BaseModel):
    items: list[EventOut]
    next_before: int | None = Field(
        default=None, description="pass as `before` for the next page; null: no more"
    )


class ProjectQuotas(Strict):
    quota_vcpus: int | None = Field(default=None, ge=L.QUOTA.low, le=L.QUOTA.high)
    quota_memory_mib: int | None = Field(default=None, ge=L.QUOTA.low, le=L.QUOTA.high)
    quota_disk_gib: int | None = Field(default=None, ge=L.QUOTA.low, le=L.QUOTA.high)
    quota_vms: int | None = Field(default=None, ge=L.QUOTA.low, le=L.QUOTA.high)
    quota_snapshots: int | None = Field(
        default=None, ge=L.QUOTA.low, le=L.QUOTA.high, description="snapshots of its VMs"
    )


class ProjectLeaseDefaults(Strict):
    default_lease_s: int | None = Field(
        default=None, ge=60, le=L.MAX_ID,
        description="the lease its VMs get when they ask for none, before their pool's "
        "default (null: the pool's); within the pool's max_lease_s",
    )  # fmt: skip
    default_reclaim_policy: ReclaimPolicyIn | None = Field(
        default=None, description="its VMs' reclaim policy when they name none (null: the pool's)"
    )


class ProjectCreate(ProjectQuotas, ProjectLeaseDefaults):
    name: str = Field(max_length=63, pattern=NAME_PATTERN, examples=["team-a"])
    description: str = Field(default="", max_length=255)


class ProjectUpdate(ProjectQuotas, ProjectLeaseDefaults):
    description: str | None = Field(default=None, max_length=255)


class ProjectOut(Out):
    id: int
    name: str
    description: str
    quota_vcpus: int | None = Field(description="null: no limit")
    quota_memory_mib: int | None
    quota_disk_gib: int | None
    quota_vms: int | None
    quota_snapshots: int | None
    default_lease_s: int | None
    default_reclaim_policy: str | None
    created_at: datetime


class ProjectList(Paged):
    items: list[ProjectOut]


class UsageOut(Out):
    project_id: int
    vms: int
    vcpus: int
    memory_mib: int
    disk_gib: int = Field(description="boot disks and data disks")
    quota_vms: int | None
    quota_vcpus: int | None
    quota_memory_mib: int | None
    quota_disk_gib: int | None
    snapshots: int = Field(description="snapshots of its VMs")
    quota_snapshots: int | None


class _TokenCommon(Strict):
    name: str = Field(max_length=63, pattern=NAME_PATTERN)
    ttl_s: int | None = Field(
        default=None, ge=60, le=L.MAX_ID, description="lifetime; default and maximum in settings"
    )


class AdminTokenCreate(_TokenCommon):
    """An admin acts in every project: no project."""

    role: Literal["admin"]


class ProjectTokenCreate(_TokenCommon):
    """A member or reader acts in one project."""

    role: Literal["member", "reader"]
    project_id: DbId


# One or the other by `role` (as NetworkCreate).
TokenCreate = AdminTokenCreate | ProjectTokenCreate


class TokenOut(Out):
    id: int
    name: str
    role: str
    project_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret, shown this once (vmpool keeps only its hash)")


class TokenList(Paged):
    items: list[TokenOut]


class MigrateIn(Strict):
    target_host_id: DbId | None = Field(
        default=None, description="when absent, placement chooses (never the source)"
    )
    bandwidth_mib_s: int | None = Field(
        default=None, ge=L.BANDWIDTH_MIB_S.low, le=L.BANDWIDTH_MIB_S.high
    )
    max_downtime_ms: int = Field(default=500, ge=L.MAX_DOWNTIME_MS.low, le=L.MAX_DOWNTIME_MS.high)
    auto_converge: bool = False  # as Nova; see docs/migration.md for why
    allow_post_copy: bool = Field(default=False, description="switch to post-copy at the timeout")
    completion_timeout_s_per_gib: int = Field(
        default=800,
        ge=L.COMPLETION_TIMEOUT_S_PER_GIB.low,
        le=L.COMPLETION_TIMEOUT_S_PER_GIB.high,
    )
    storage: Literal["shared", "copy"] | None = Field(
        default=None,
        description="shared: disks on storage both hosts see; copy: copy the local disks. "
        "Default: copy if the VM has local disks, else shared",
    )


class MigrationOut(Out):
    id: int
    vm_id: int
    vm_name: str
    source_host_id: int | None = Field(description="null once the host is deleted")
    source_host: str | None = Field(description="kept after the host is deleted")
    target_host_id: int | None
    target_host: str | None
    state: MigrationState
    reason: str = Field(description="api or evacuation")
    bandwidth_mib_s: int | None
    max_downtime_ms: int
    auto_converge: bool
    allow_post_copy: bool
    completion_timeout_s_per_gib: int
    storage: str
    cancel_requested: bool
    data_total: int | None = Field(description="bytes")
    data_processed: int | None
    data_remaining: int | None
    memory_dirty_rate: int | None = Field(description="bytes per second")
    iteration: int | None
    current_max_downtime_ms: int | None
    post_copy: bool
    downtime_ms: int | None = Field(description="measured, once completed")
    total_time_ms: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class MigrationPage(BaseModel):
    items: list[MigrationOut]
    next_after: int | None


class LoadOut(Out):
    kind: str = Field(description="host or vm")
    subject_id: int
    sampled_at: datetime | None = Field(description="null: not sampled yet")
    cpu_usage: float | None = Field(description="busy share of its CPUs over the last interval")
    cpu_usage_avg: float | None = Field(description="smoothed over window_s (time constant)")
    memory_used_mib: int | None = Field(description="VMs: resident memory, where reported")
    samples: int
    window_s: float


class PlanCreate(Strict):
    strategy: Strategy | None = Field(default=None, strict=False, description="default: the pool's")
    max_moves: int | None = Field(
        default=None, ge=L.MAX_MOVES.low, le=L.MAX_MOVES.high, description="default: the pool's"
    )
    max_memory_mib: int | None = Field(
        default=None,
        ge=L.MAX_MEMORY_MIB.low,
        le=L.MAX_MEMORY_MIB.high,
        description="default: the pool's (0: no memory budget)",
    )
    min_gain: float | None = Field(
        default=None, ge=L.MIN_GAIN.low, le=L.MIN_GAIN.high, description="default: the pool's"
    )
    dry_run: bool = Field(default=False, description="answer with the plan without storing it")


class PlanStepOut(Out):
    seq: int
    vm_id: int | None
    vm_name: str
    source_host: str
    target_host: str
    score_before: float
    score_after: float
    memory_mib: float
    reason: str = Field(description="evacuate | soft-group | balance | consolidate")
    state: str = Field(description="pending | running | completed | skipped | failed | cancelled")
    migration_id: int | None
    detail: str | None = Field(description="why a step was skipped or failed")
    started_at: datetime | None
    finished_at: datetime | None


class PlanOut(Out):
    id: int | None = Field(description="null for a dry run, which is not stored")
    pool_id: int
    state: str = Field(
        description="proposed | running | completed | cancelled | superseded (or dry-run)"
    )
    origin: str = Field(description="scheduled (the loop) | api")
    actor: str
    strategy: str
    min_gain: float
    score_before: float
    score_after: float = Field(description="the score the plan expects")
    score_final: float | None = Field(description="the score measured when the plan ended")
    components_before: dict[str, float]
    components_after: dict[str, float]
    empty_hosts: list[str] = Field(description="up hosts without VMs after the plan")
    emptied_hosts: list[str] = Field(description="of those, the ones the plan empties")
    stopped_because: str
    note: str | None
    planning_ms: float | None
    disk_gib_moved: float = Field(
        description="GiB of local disks the moves copy, at most (copies are incremental)"
    )
    steps: list[PlanStepOut]
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None
    finished_at: datetime | None


class PlanList(BaseModel):
    items: list[PlanOut]
    next_before: int | None = Field(
        description="pass as `before` to get older plans; null on the last page"
    )


class HostScoreOut(Out):
    name: str
    up: bool
    vms: int
    cpu_alloc: float
    mem_alloc: float
    cpu_load: float


class PoolScoreOut(Out):
    pool_id: int
    strategy: str
    score: float = Field(description="lower is better (docs/rebalance.md)")
    components: dict[str, float]
    hosts: list[HostScoreOut]
    empty_hosts: list[str]
    warnings: list[str]


# --- PCI passthrough (docs/hardware.md) ----------------------------------------


class HostDeviceOut(Out):
    host_id: int
    address: str = Field(
        description="PCI address, domain:bus:slot.function", examples=["0000:3b:00.0"]
    )
    vendor_id: str = Field(examples=["0x10de"])
    product_id: str = Field(examples=["0x20b0"])
    vendor: str
    product: str
    iommu_group: int | None
    numa_node: int | None
    alias: str | None = Field(description="assignable to VMs asking for this alias; null: not")
    vm_id: int | None = Field(description="the VM it is assigned to")
    vm_name: str | None
    missing_since: datetime | None = Field(
        description="no longer listed by the host's libvirt since (kept while a VM holds it)"
    )


class HostDeviceList(BaseModel):
    items: list[HostDeviceOut]


class HostDeviceUpdate(Strict):
    alias: Trait | None = Field(
        description="make the device assignable under this alias (e.g. gpu:a100); null: not "
        "assignable"
    )
