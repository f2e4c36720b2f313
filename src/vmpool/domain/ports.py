"""The ports services depend on: the hypervisor, reached through a Protocol.

The libvirt implementation lives in `vmpool.adapters.hypervisor`; unit tests
use a fake. Every method may raise `HostUnreachable` (temporary) and the
domain methods `DomainMissing` when the domain is not (or no longer) there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from vmpool.domain.hardware import NO_HARDWARE, HostHardware, PciDevice
from vmpool.domain.images import DiskFormat, ImageFacts
from vmpool.domain.model import DomainType


@dataclass(frozen=True, slots=True)
class HostInventory:
    hostname: str
    host_uuid: str
    arch: str
    cpus: int
    memory_mib: int
    domain_types: frozenset[DomainType]
    libvirt_version: str
    hypervisor_version: str
    cpu_model: str = ""
    traits: frozenset[str] = frozenset()
    # Special hardware (domain/hardware.py): NUMA cells and huge pages, SGX, machine types,
    # the hypervisor's features; and its PCI devices (node device API).
    hardware: HostHardware = NO_HARDWARE
    # None: the host could not list them this time (what is recorded stays as it is).
    pci_devices: tuple[PciDevice, ...] | None = ()


class PowerState:
    """The domain states vmpool distinguishes, as plain strings of VmState values."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting_down"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True)
class DomainInfo:
    uuid: str
    name: str
    state: str  # one of PowerState
    vmpool_vm_id: int | None = None  # from the domain's vmpool metadata, if vmpool defined it


@dataclass(frozen=True, slots=True)
class BootImage:
    kernel: str
    initrd: str
    cmdline: str


@dataclass(frozen=True, slots=True)
class NicSpec:
    """A NIC as the domain gets it: on a Linux bridge, or on a libvirt network."""

    mac: str
    bridge: str | None = None  # kind bridge: the bridge's name on the host
    network: str | None = None  # kind libvirt: the libvirt network's name
    model: str = "virtio"


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A libvirt network vmpool defines on a host (`vmpool-<name>`, its own bridge)."""

    name: str
    bridge: str
    routed: bool = False
    ipv4_gateway: str | None = None  # the host's address on it, with the prefix length
    ipv4_prefix: int | None = None
    ipv6_gateway: str | None = None
    ipv6_prefix: int | None = None


@dataclass(frozen=True, slots=True)
class HostNetworks:
    """What a host offers to NICs: its Linux bridges and its active libvirt networks."""

    bridges: frozenset[str]
    libvirt_networks: frozenset[str]


@dataclass(frozen=True, slots=True)
class DomainSpec:
    vm_id: int
    uuid: str
    name: str
    vcpus: int
    memory_mib: int
    domain_type: DomainType
    arch: str = "x86_64"
    boot: BootImage | None = None
    serial_log: str | None = None
    extra_cmdline: tuple[str, ...] = field(default_factory=tuple)
    disk_path: str | None = None  # a qcow2 volume, attached as vda
    seed_path: str | None = None  # the first-boot seed (cloud-init NoCloud), as a CD-ROM
    nics: tuple[NicSpec, ...] = ()
    # Hot-plug: the sizes it may grow to live (None: its current size, so no growth).
    max_vcpus: int | None = None
    max_memory_mib: int | None = None
    # Special hardware (docs/hardware.md). The machine type from the host's domain
    # capabilities (None: libvirt's default for the arch).
    machine: str | None = None
    tpm: bool = False  # an emulated TPM 2.0 (swtpm)
    sgx_epc_mib: int = 0
    # Dedicated CPUs: the host CPU of each vCPU, in order, and the CPUs its emulator threads
    # run on (the host's shared set); empty: not pinned.
    vcpu_pins: tuple[int, ...] = ()
    vcpu_cells: tuple[int, ...] = ()  # the host NUMA cell of each pinned vCPU
    emulator_cpus: tuple[int, ...] = ()
    hugepage_kib: int | None = None  # its memory backed by huge pages of this size
    numa_cells: tuple[int, ...] = ()  # the host NUMA cells its memory is bound to
    hostdevs: tuple[str, ...] = ()  # PCI addresses assigned to it (0000:01:00.0)


@dataclass(frozen=True, slots=True)
class CpuPlacement:
    """A dedicated VM's CPUs on a host (docs/hardware.md): the host CPU and NUMA
    cell of each vCPU, in order, and the CPUs its emulator threads run on."""

    vcpu_pins: tuple[int, ...]
    vcpu_cells: tuple[int, ...]
    emulator_cpus: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MigrationRequest:
    """How to move a domain: libvirt managed peer-to-peer live migration."""

    dest_uri: str  # the target's libvirt URI
    data_uri: str  # where QEMU sends the data, e.g. tcp://10.0.0.2
    bandwidth_mib_s: int | None = None
    max_downtime_ms: int | None = None
    auto_converge: bool = False  # as Nova; see docs/migration.md for why
    allow_post_copy: bool = False
    copy_storage: bool = False  # incremental: the target volumes exist already (vmpool made them)
    disks: tuple[str, ...] = ()  # disk targets to copy (vda, ...) when copy_storage
    # The operator declared the disk's folder shared by both hosts (shared_disk_path): do not
    # let libvirt refuse a file system it does not recognise as shared (VIR_MIGRATE_UNSAFE).
    trust_shared_storage: bool = False
    tls: bool = False  # QEMU encrypts the migration stream (VIR_MIGRATE_TLS)
    # A dedicated VM: the target's CPUs, recorded before the move. The definition sent with
    # the migration (live and persistent) is its own, pinned to them instead of the source's.
    dest_cpus: CpuPlacement | None = None


@dataclass(frozen=True, slots=True)
class JobProgress:
    """A migration job's figures (libvirt's jobStats), bytes and bytes/s."""

    active: bool
    time_elapsed_ms: int | None = None
    data_total: int | None = None
    data_processed: int | None = None
    data_remaining: int | None = None
    memory_dirty_rate: int | None = None
    iteration: int | None = None
    downtime_ms: int | None = None


@dataclass(frozen=True, slots=True)
class DomainLoad:
    uuid: str
    cpu_time_ns: int  # cumulative
    vcpus: int
    memory_used_mib: int | None


@dataclass(frozen=True, slots=True)
class LoadSample:
    """One reading of a host's counters and of each running domain's."""

    cpu_busy_ns: int  # cumulative, all CPUs
    cpu_total_ns: int
    cpus: int
    domains: tuple[DomainLoad, ...]


class Hypervisor(Protocol):
    """One hypervisor host."""

    @property
    def uri(self) -> str: ...

    def inventory(self) -> HostInventory: ...

    def list_domains(self) -> list[DomainInfo]: ...

    def domain(self, uuid: str) -> DomainInfo: ...

    def define(self, spec: DomainSpec) -> None: ...

    def start(self, uuid: str) -> None: ...

    def shutdown(self, uuid: str) -> None: ...

    def destroy(self, uuid: str) -> None: ...

    def reboot(self, uuid: str) -> None: ...

    def undefine(self, uuid: str) -> None: ...

    def create_volume(self, folder: str, name: str, gib: int) -> str:
        """A new qcow2 disk of `gib` GiB in `folder` on this host; answers its path."""
        ...

    def delete_volume(self, path: str) -> None:
        """Remove a disk; one already gone is fine."""
        ...

    def create_overlay(
        self, folder: str, name: str, backing: str, backing_format: DiskFormat, gib: int
    ) -> str:
        """A new qcow2 of `gib` GiB in `folder` over the image `backing` (its format written
        into the overlay, never probed); answers its path."""
        ...

    def upload_volume(self, folder: str, name: str, source: str) -> str:
        """A new volume `name` in `folder` holding the bytes of the daemon's local file
        `source`; answers its path. A failed copy leaves no volume. No deadline."""
        ...

    def volume_exists(self, path: str) -> bool: ...

    def resize_volume(self, path: str, gib: int) -> None:
        """Grow the volume of a domain that does not run."""
        ...

    def attach_disk(self, uuid: str, path: str, target: str) -> None:
        """A qcow2 volume as virtio disk `target`: live if the domain runs, and defined."""
        ...

    def detach_disk(self, uuid: str, path: str, target: str) -> None:
        """Detach, confirmed: raises if the guest has not released the disk in time."""
        ...

    def resize_disk(self, uuid: str, path: str, target: str, gib: int) -> None:
        """Grow disk `target`, online if the domain runs."""
        ...

    def attach_nic(self, uuid: str, nic: NicSpec) -> None:
        """Add the NIC to the domain: live if it runs, and to its definition."""
        ...

    def detach_nic(self, uuid: str, nic: NicSpec) -> None:
        """Remove the NIC, live (confirmed by the guest letting it go) and from the
        definition; fine if it is not there."""
        ...

    def host_networks(self) -> HostNetworks:
        """The host's bridges and active libvirt networks."""
        ...

    def ensure_network(self, spec: NetworkSpec) -> None:
        """Define, start and autostart the libvirt network if it is not active yet."""
        ...

    def remove_network(self, name: str) -> None:
        """Stop and undefine the libvirt network; fine if it is not there."""
        ...

    def sample_load(self) -> LoadSample:
        """CPU counters of the host and its running domains (libvirt getAllDomainStats)."""
        ...

    def folder_capacity_gib(self, folder: str) -> int:
        """The size of the file system holding `folder` on this host (its disk capacity)."""
        ...

    def prepare_storage(self, folder: str) -> None:
        """Make `folder` a place libvirt can create disks in (a copy migration needs it)."""
        ...

    def is_active(self, uuid: str) -> bool:
        """Whether the domain runs here; False when it is not here at all."""
        ...

    def migrate(self, uuid: str, request: MigrationRequest) -> None:
        """Live-migrate; blocks until the job ends. Raises when it fails or is aborted."""
        ...

    def job_progress(self, uuid: str) -> JobProgress: ...

    def completed_job(self, uuid: str) -> JobProgress:
        """The figures of the last finished job (e.g. the measured downtime)."""
        ...

    def abort_job(self, uuid: str) -> None: ...

    def set_max_downtime(self, uuid: str, ms: int) -> None: ...

    def start_post_copy(self, uuid: str) -> None: ...

    # --- snapshots (internal to the domain's qcow2 volumes; domain/snapshot.py) ---

    def create_snapshot(self, uuid: str, name: str, with_memory: bool) -> str:
        """An internal snapshot `name` (vmpool's name, never a client's text): with the
        memory of a running domain, or of the disks of a stopped one. Answers libvirt's
        XML of it (to define it again on another host)."""
        ...

    def revert_snapshot(self, uuid: str, name: str) -> None:
        """Put the domain back to the snapshot: running if it held memory, else as it was
        (a disk-only snapshot of a stopped domain leaves it stopped)."""
        ...

    def delete_snapshot(self, uuid: str, name: str, metadata_only: bool = False) -> None:
        """Delete the snapshot (its data in the volumes and libvirt's record of it), or only
        libvirt's record; fine if it is not there."""
        ...

    def snapshot_xml(self, uuid: str, name: str) -> str:
        """libvirt's XML of the snapshot (getXMLDesc)."""
        ...

    def snapshot_names(self, uuid: str) -> list[str]:
        """The names of the snapshots libvirt knows for the domain."""
        ...

    def current_snapshot(self, uuid: str) -> str | None:
        """The name of the domain's current snapshot (the last taken or reverted to)."""
        ...

    def redefine_snapshot(self, uuid: str, xml: str, current: bool) -> None:
        """Define libvirt's record of a snapshot whose data the volumes hold already
        (VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE), e.g. after the domain moved."""
        ...

    # --- copies of a volume (reclaim: snapshot_then_delete, docs/lifecycle.md) ---------

    def clone_volume(self, path: str, folder: str, name: str) -> str:
        """A standalone qcow2 copy `name`.qcow2 in `folder` of the volume at `path` (an
        overlay's backing chain flattened into it: libvirt createXMLFrom); answers its path.
        The source must not be written meanwhile (its domain is stopped)."""
        ...

    def read_volume(self, path: str) -> Iterator[bytes]:
        """The bytes of the volume's file, in chunks (libvirt's download stream)."""
        ...

    # --- hot-plug and resize (docs/lifecycle.md) ---

    def set_vcpus(self, uuid: str, vcpus: int) -> None:
        """Set the domain's current vCPUs (up to its maximum): live (hot-plug, or unplug
        confirmed by the guest) if it runs, and in its definition. Raises if the running
        domain does not end with `vcpus` vCPUs."""
        ...

    def set_memory(self, uuid: str, memory_mib: int, wait_s: float) -> int:
        """Set the domain's current memory (the balloon's target, up to its maximum): live
        if it runs, and in its definition. Answers the MiB the guest has when it returns:
        for a running domain that shrinks, it waits up to `wait_s` for the balloon to get
        there (the guest gives the memory back); a stopped one answers `memory_mib`."""
        ...


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified external token (OIDC/JWT) says of its bearer."""

    subject: str
    role: str
    project: str | None  # a project's name


class TokenVerifier(Protocol):
    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; Unauthorized for any other."""
        ...


class DomainEvents(Protocol):
    """Hosts that say when their domains change state (libvirt's lifecycle events)."""

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """`listener(host_uri)` on every change; answers the unsubscribe function."""
        ...


@dataclass(frozen=True, slots=True)
class FenceOutcome:
    """What a host's fence command did: `ok` only if it exited 0 within its time."""

    ok: bool
    detail: str  # its exit status and the end of its output


class FenceAgent(Protocol):
    """Runs a host's fence command (an IPMI or PDU power-off script, a fence agent)."""

    def fence(self, command: list[str], host_name: str, host_uri: str) -> FenceOutcome: ...


class LeaderLock(Protocol):
    """The one lock replicas on a shared database compete for (adapters/db/leader_lock.py)."""

    def try_acquire(self) -> bool: ...

    def held(self) -> bool:
        """Whether it is still held (checking keeps it alive)."""
        ...

    def release(self) -> None: ...


class HypervisorConnector(Protocol):
    """Opens (and may cache) a connection to the host at a libvirt URI."""

    def connect(self, uri: str) -> Hypervisor: ...

    def forget(self, uri: str) -> None: ...


class ImageCatalog(Protocol):
    """Boot images by name. Their files must exist at the same path on every host."""

    def resolve(self, name: str) -> BootImage: ...

    def names(self) -> list[str]: ...


class MigrationQueue(Protocol):
    """Starts queued migrations (within the limits) and knows which ones it runs."""

    def kick(self) -> None: ...

    def adopt(self, migration_id: int) -> None: ...

    def owned(self) -> set[int]: ...


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    path: str
    size: int
    sha256: str


class ImageStore(Protocol):
    """The daemon's own copy of each catalog image (hosts get theirs from it)."""

    def receive(self, image_id: int, chunks: Iterable[bytes], max_bytes: int) -> ReceivedFile:
        """Write an upload to a staging file, counting and hashing; past `max_bytes`
        PayloadTooLarge. Whatever goes wrong, no staging file is left."""
        ...

    def inspect(self, path: str, fmt: DiskFormat | None) -> ImageFacts: ...

    def keep(self, image_id: int, staged: str, fmt: DiskFormat) -> str:
        """Move a checked staging file into the store; answers its path."""
        ...

    def path(self, image_id: int, fmt: DiskFormat) -> str: ...

    def remove(self, image_id: int) -> None:
        """Remove the image's files, staged or kept; absent ones are fine."""
        ...

    def keep_seed(self, vm_uuid: str, files: dict[str, bytes]) -> str:
        """Write the VM's first-boot seed (an ISO 9660 `cidata` image); answers its path."""
        ...

    def seed_path(self, vm_uuid: str) -> str: ...

    def remove_seed(self, vm_uuid: str) -> None: ...


class Metrics(Protocol):
    """What this process measures as it runs (the Prometheus adapter records it; the figures
    that describe the model are read from the database at scrape time instead)."""

    def placement_timed(self, use: str, seconds: float) -> None:
        """A placement decision (`use`: create, migrate, restart) took `seconds`."""

    def cycle_finished(self, cycle: str, seconds: float) -> None:
        """A background cycle (sync, host_sync, sample) took `seconds`."""

    def migration_finished(
        self, outcome: str, total_s: float | None, downtime_s: float | None
    ) -> None:
        """A migration ended (`outcome`: completed, failed, cancelled)."""

    def job_started(self, job_id: str, lag_s: float) -> None:
        """A scheduled job started `lag_s` after it was due."""


class NoMetrics:
    """Measures nothing (the default)."""

    def placement_timed(self, use: str, seconds: float) -> None:
        pass

    def cycle_finished(self, cycle: str, seconds: float) -> None:
        pass

    def migration_finished(
        self, outcome: str, total_s: float | None, downtime_s: float | None
    ) -> None:
        pass

    def job_started(self, job_id: str, lag_s: float) -> None:
        pass


class ServiceManager(Protocol):
    """The service manager that started the daemon (systemd, through its notify protocol):
    told when the daemon can serve, how it is, that it still lives, and that it stops."""

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens (if not, every call does nothing)."""

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often `watchdog` must be called (half the manager's timeout); None: never."""

    def ready(self, status: str) -> None:
        """The daemon serves (READY=1), with a status line."""

    def status(self, status: str) -> None:
        """A new status line (STATUS=)."""

    def watchdog(self) -> None:
        """The daemon still lives (WATCHDOG=1)."""

    def stopping(self, status: str) -> None:
        """The daemon stops gracefully (STOPPING=1)."""


class NoServiceManager:
    """No service manager listens (the default)."""

    enabled: bool = False
    watchdog_interval_s: float | None = None

    def ready(self, status: str) -> None:
        pass

    def status(self, status: str) -> None:
        pass

    def watchdog(self) -> None:
        pass

    def stopping(self, status: str) -> None:
        pass
