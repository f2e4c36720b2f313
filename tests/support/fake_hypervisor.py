"""An in-memory cloud of hypervisor hosts, for fast service tests: no root, no libvirt.

`FakeCloud` is a `HypervisorConnector` holding `FakeHost`s by URI; each `FakeHost`
implements the whole `Hypervisor` port with the semantics of the libvirt adapter
(`vmpool.adapters.hypervisor.libvirt_adapter`), including the vmpool error each
libvirt failure is translated to:

- every call on an unreachable host (`host.unreachable = True`), and `connect` to it or
  to an unknown URI, raises `HostUnreachable`;
- a domain call on a domain that is not there raises `DomainMissing`, except `undefine`
  (already gone is fine) and `is_active` (False);
- `shutdown` and `reboot` of a domain that does not run, `abort_job` without a job and
  `start_post_copy` of a migration that does not allow it raise
  `HypervisorOperationInvalid` (VIR_ERR_OPERATION_INVALID);
- a name already used by another domain raises `AlreadyExists`, a domain type or
  architecture the host cannot run raises `InvalidInput` (VIR_ERR_CONFIG_UNSUPPORTED);
- anything else the "host" refuses raises `HypervisorFailure`, among them an aborted
  migration (VIR_ERR_OPERATION_ABORTED has no translation of its own).

A live migration is a job of `migration_steps` steps. While it runs, the domain is
active on its source (with the job) and, paused, on the target (libvirt's incoming
domain); it ends with the domain running on the target only (PERSIST_DEST,
UNDEFINE_SOURCE), or, failed or aborted, running on the source only. A test can hold
every migration out of a host at its first step (`hold_migrations`), watch its progress
(`wait_for_migration`, `job_progress`), abort it, or let it go (`release_migrations`).

All state sits behind one lock of the cloud; tests may call the helpers from any thread.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from vmpool.adapters.hypervisor.domain_xml import snapshot_sizes
from vmpool.domain.hardware import NO_HARDWARE, HostHardware, PciDevice
from vmpool.domain.images import DiskFormat, gib_for
from vmpool.domain.model import DomainType
from vmpool.domain.ports import (
    DomainInfo,
    DomainLoad,
    DomainSpec,
    HostInventory,
    HostNetworks,
    Hypervisor,
    HypervisorConnector,
    JobProgress,
    LoadSample,
    MigrationRequest,
    NetworkSpec,
    NicSpec,
    PowerState,
)
from vmpool.errors import (
    AlreadyExists,
    DomainMissing,
    HostUnreachable,
    HypervisorFailure,
    HypervisorOperationInvalid,
    InvalidInput,
    VmpoolError,
)

MIB = 1024 * 1024
GIB = 1024 * MIB
NS = 1_000_000_000

# What libvirt says when abortJob stops a migration (VIR_ERR_OPERATION_ABORTED, which the
# adapter's translation turns into a HypervisorFailure).
ABORTED_MESSAGE = "operation aborted: migration out job: canceled by client"
DEFAULT_FOLDER = "/var/lib/libvirt/images/vmpool"

_ACTIVE_STATES = frozenset({PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTTING_DOWN})


@dataclass(eq=False)
class FakeDomain:
    """One domain as the fake host keeps it."""

    uuid: str
    name: str
    vcpus: int
    memory_mib: int
    domain_type: DomainType
    arch: str
    state: str = PowerState.STOPPED
    vmpool_vm_id: int | None = None  # the vmpool metadata of a domain vmpool defined
    spec: DomainSpec | None = None  # None for a domain defined outside vmpool
    disk_path: str | None = None
    data_disks: dict[str, str] = field(default_factory=dict)  # target (vdb...) -> volume path
    nics: dict[str, NicSpec] = field(default_factory=dict)  # MAC -> the NIC
    incoming: bool = False  # the target's side of a migration in flight
    boots: int = 0
    reboots: int = 0
    shutdown_requests: int = 0
    cpu_time_ns: int = 0
    cpu_busy_fraction: float = 0.5  # of its vCPUs, advanced at each load sample
    max_downtime_ms: int | None = None
    downtimes_set: list[int] = field(default_factory=list)
    completed: JobProgress | None = None  # the last finished job's figures
    job: FakeJob | None = None

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE_STATES

    def info(self) -> DomainInfo:
        return DomainInfo(
            uuid=self.uuid, name=self.name, state=self.state, vmpool_vm_id=self.vmpool_vm_id
        )


@dataclass
class FakeSnapshot:
    """libvirt's record of one internal snapshot of a domain, as the fake host keeps it."""

    name: str
    with_memory: bool
    state: str  # the domain's state when it was taken
    xml: str
    current: bool = False


@dataclass(eq=False)
class FakeJob:
    """A live migration in flight, driven by the source host."""

    uuid: str
    request: MigrationRequest
    source: FakeHost
    target: FakeHost
    steps: int
    data_total: int
    dirty_rate: int
    started: float = field(default_factory=time.monotonic)
    done_steps: int = 0
    aborted: bool = False
    killed: bool = False  # the domain was destroyed or undefined under the job
    post_copy: bool = False
    failure: VmpoolError | None = None  # injected: raised when `fail_at_step` is reached
    fail_at_step: int = 1
    error: VmpoolError | None = None  # how it ended, when it failed (background jobs)
    ended: bool = False

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def progress(self, downtime_ms: int | None = None) -> JobProgress:
        processed = self.data_total * self.done_steps // self.steps
        return JobProgress(
            active=not self.ended,
            time_elapsed_ms=self.elapsed_ms(),
            data_total=self.data_total,
            data_processed=processed,
            data_remaining=self.data_total - processed,
            memory_dirty_rate=self.dirty_rate,
            iteration=self.done_steps,
            downtime_ms=downtime_ms,
        )


def fake_disk_bytes(path: str) -> bytes:
    """What a fake disk holds, as the guest sees it: 64 KiB that name it."""
    return f"VMPOOL-FAKE-DISK {path}\n".encode().ljust(65536, b"\0")


def as_qcow2(raw: bytes) -> bytes:
    """`raw` as a standalone qcow2 file (what libvirt's createXMLFrom makes), by qemu-img."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "disk.raw", Path(tmp) / "disk.qcow2"
        src.write_bytes(raw)
        subprocess.run(
            ["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(src), str(dst)],
            check=True,
        )
        return dst.read_bytes()


class FakeHost:
    """One hypervisor host in memory. It implements `vmpool.domain.ports.Hypervisor`."""

    def __init__(
        self,
        cloud: FakeCloud,
        uri: str,
        *,
        hostname: str,
        host_uuid: str,
        arch: str = "x86_64",
        cpus: int = 8,
        memory_mib: int = 16384,
        disk_gib: int = 200,
        domain_types: frozenset[DomainType] = frozenset({DomainType.KVM, DomainType.QEMU}),
        traits: frozenset[str] = frozenset({"kvm"}),
        cpu_model: str = "Fake-Skylake",
        libvirt_version: str = "9.0.0",
        hypervisor_version: str = "7.2.0",
    ) -> None:
        self._cloud = cloud
        self._cond = cloud.cond
        self._uri = uri
        self.hostname = hostname
        self.host_uuid = host_uuid
        self.arch = arch
        self.cpus = cpus
        self.memory_mib = memory_mib
        self.disk_gib = disk_gib
        self.domain_types = domain_types
        self.traits = traits
        self.cpu_model = cpu_model
        self.libvirt_version = libvirt_version
        self.hypervisor_version = hypervisor_version
        # What its hypervisor offers beyond its size (docs/hardware.md): NUMA cells and huge
        # pages, SGX EPC, its driver and features; a test sets another (e.g.
        # HostHardware(driver="bhyve")), then syncs.
        self.hardware: HostHardware = NO_HARDWARE
        # Switches a test may flip at any time.
        self.unreachable = False
        self.guests_obey_acpi = True  # a shutdown powers the guest off (at once, here)
        self.migration_steps = 3
        self.migration_step_s = 0.0  # time each step takes
        self.migration_downtime_ms = 42  # what a completed migration reports
        self.migration_dirty_rate = 4 * MIB  # bytes/s, reported while migrating
        self.busy_fraction = 0.25  # of the host's CPUs, advanced at each load sample
        # Passthrough (docs/hardware.md): the PCI devices its node device API lists.
        self.pci_devices: tuple[PciDevice, ...] | None = ()  # None: its listing fails
        self.folder_capacity: dict[str, int] = {}  # folder -> GiB; else `disk_gib`
        # State, read by tests through the helpers below.
        self.domains: dict[str, FakeDomain] = {}
        self.volumes: dict[str, int] = {}  # path -> GiB, for folders private to this host
        self.storage_folders: set[str] = set()  # folders libvirt has a storage pool for
        self.backings: dict[str, tuple[str, DiskFormat]] = {}  # overlay path -> its base
        self.uploaded: dict[str, bytes] = {}  # volume path -> the bytes uploaded into it
        self.guest_holds_disks = False  # a guest that never releases a hot-unplugged disk
        self.guest_holds_nics = False  # a guest that never releases a hot-unplugged NIC
        self.guest_keeps_memory = False  # a guest whose balloon never gives memory back
        self.bridges: set[str] = {"br0"}  # the host's Linux bridges
        self.libvirt_networks: dict[str, NetworkSpec] = {}  # active libvirt networks by name
        self.calls: list[str] = []  # every port method called, in order
        self.migration_requests: list[MigrationRequest] = []  # every migrate asked of it
        # uuid -> libvirt's snapshot records of the domain (name -> record), as libvirt
        # keeps them per host (a migration does not carry them).
        self.snapshots: dict[str, dict[str, FakeSnapshot]] = {}
        self.reverts: list[tuple[str, str]] = []  # (uuid, snapshot name) of every revert
        self._fail_next: dict[str, VmpoolError] = {}
        self._migration_failure: tuple[VmpoolError, int] | None = None
        self._holding = False
        self._busy_ns = 0
        self._total_ns = 0

    def __repr__(self) -> str:
        return f"FakeHost({self._uri!r})"

    # --- the Hypervisor port --------------------------------------------------------

    @property
    def uri(self) -> str:
        return self._uri

    def inventory(self) -> HostInventory:
        with self._cond:
            self._enter("inventory")
            return HostInventory(
                hostname=self.hostname,
                host_uuid=self.host_uuid,
                arch=self.arch,
                cpus=self.cpus,
                memory_mib=self.memory_mib,
                domain_types=self.domain_types,
                libvirt_version=self.libvirt_version,
                hypervisor_version=self.hypervisor_version,
                cpu_model=self.cpu_model,
                traits=self.traits,
                hardware=self.hardware,
                pci_devices=self.pci_devices,
            )

    def _check_hostdevs(self, spec: DomainSpec) -> None:
        """libvirt refuses a <hostdev> of a PCI device the host does not have."""
        have = {d.address for d in self.pci_devices or ()}
        for address in spec.hostdevs:
            if address not in have:
                raise HypervisorFailure(
                    f"device not found: no node device with name pci_{address}", uri=self._uri
                )

    def list_domains(self) -> list[DomainInfo]:
        with self._cond:
            self._enter("list_domains")
            return [d.info() for d in sorted(self.domains.values(), key=lambda d: d.name)]

    def domain(self, uuid: str) -> DomainInfo:
        with self._cond:
            self._enter("domain")
            return self._get(uuid).info()

    def define(self, spec: DomainSpec) -> None:
        with self._cond:
            self._enter("define")
            if spec.domain_type not in self.domain_types:
                raise InvalidInput(
                    f"unsupported configuration: virt type '{spec.domain_type.value}' "
                    f"is not available on {self._uri}",
                    uri=self._uri,
                )
            if spec.arch != self.arch:
                raise InvalidInput(
                    f"unsupported configuration: no emulator for arch '{spec.arch}'",
                    uri=self._uri,
                )
            self._check_hostdevs(spec)
            for other in self.domains.values():
                if other.name == spec.name and other.uuid != spec.uuid:
                    raise AlreadyExists(
                        f"operation failed: domain '{spec.name}' already exists with uuid "
                        f"{other.uuid}",
                        uri=self._uri,
                    )
            existing = self.domains.get(spec.uuid)
            if existing is not None:
                if existing.name != spec.name:
                    raise AlreadyExists(
                        f"operation failed: domain '{existing.name}' already exists with "
                        f"uuid {spec.uuid}",
                        uri=self._uri,
                    )
                # Redefining updates the persistent definition; the running state stays.
                existing.spec = spec
                existing.vcpus, existing.memory_mib = spec.vcpus, spec.memory_mib
                existing.domain_type, existing.disk_path = spec.domain_type, spec.disk_path
                existing.vmpool_vm_id = spec.vm_id
                existing.nics = {n.mac: n for n in spec.nics}
                return
            self.domains[spec.uuid] = FakeDomain(
                uuid=spec.uuid,
                name=spec.name,
                vcpus=spec.vcpus,
                memory_mib=spec.memory_mib,
                domain_type=spec.domain_type,
                arch=spec.arch,
                vmpool_vm_id=spec.vm_id,
                spec=spec,
                disk_path=spec.disk_path,
                nics={n.mac: n for n in spec.nics},
            )

    def _check_nic_source(self, nic: NicSpec) -> None:
        """As libvirt when QEMU starts or a NIC is plugged: its bridge or network must exist."""
        if nic.bridge is not None and nic.bridge not in self.bridges:
            raise HypervisorFailure(
                f"Cannot get interface MTU on '{nic.bridge}': No such device", uri=self._uri
            )
        if nic.network is not None and nic.network not in self.libvirt_networks:
            raise HypervisorFailure(
                f"Network not found: no network with matching name '{nic.network}'",
                uri=self._uri,
            )

    def start(self, uuid: str) -> None:
        with self._cond:
            self._enter("start")
            dom = self._get(uuid)
            if dom.active:
                return
            if dom.disk_path is not None and not self._cloud.volume_visible(self, dom.disk_path):
                raise HypervisorFailure(
                    f"Cannot access storage file '{dom.disk_path}': No such file or directory",
                    uri=self._uri,
                )
            for nic in dom.nics.values():
                self._check_nic_source(nic)
            dom.state = PowerState.RUNNING
            dom.boots += 1

    def shutdown(self, uuid: str) -> None:
        with self._cond:
            self._enter("shutdown")
            dom = self._get(uuid)
            if not dom.active:
                raise HypervisorOperationInvalid("domain is not running", uri=self._uri)
            dom.shutdown_requests += 1
            if self.guests_obey_acpi:
                self._power_off(dom)

    def destroy(self, uuid: str) -> None:
        with self._cond:
            self._enter("destroy")
            dom = self._get(uuid)
            if dom.active:
                self._power_off(dom)

    def reboot(self, uuid: str) -> None:
        with self._cond:
            self._enter("reboot")
            dom = self._get(uuid)
            if not dom.active:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: domain is not running", uri=self._uri
                )
            if self.snapshots.get(uuid):
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: cannot migrate domain with "
                    f"{len(self.snapshots[uuid])} snapshots",
                    uri=self._uri,
                )
            dom.state = PowerState.RUNNING
            dom.reboots += 1

    def undefine(self, uuid: str) -> None:
        with self._cond:
            self._enter("undefine")
            dom = self.domains.get(uuid)
            if dom is None:
                return  # already gone: what was asked for
            self._kill_job(dom)
            del self.domains[uuid]
            self.snapshots.pop(uuid, None)  # VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA

    def create_volume(self, folder: str, name: str, gib: int) -> str:
        with self._cond:
            self._enter("create_volume")
            self.storage_folders.add(folder)
            path = str(PurePosixPath(folder) / f"{name}.qcow2")
            volumes = self._cloud.volumes_for(self, path)
            if path in volumes:
                raise HypervisorFailure(
                    f"storage volume '{name}.qcow2' exists already", uri=self._uri
                )
            volumes[path] = gib
            return path

    def create_overlay(
        self, folder: str, name: str, backing: str, backing_format: DiskFormat, gib: int
    ) -> str:
        with self._cond:
            self._enter("create_overlay")
            if not self._cloud.volume_visible(self, backing):
                raise HypervisorFailure(
                    f"inaccessible backing store volume {backing}", uri=self._uri
                )
        path = self.create_volume(folder, name, gib)
        with self._cond:
            self.backings[path] = (backing, backing_format)
        return path

    def upload_volume(self, folder: str, name: str, source: str) -> str:
        with self._cond:
            self._enter("upload_volume")
            self.storage_folders.add(folder)
            path = str(PurePosixPath(folder) / name)
            volumes = self._cloud.volumes_for(self, path)
            if path in volumes:
                raise HypervisorFailure(f"storage volume '{name}' exists already", uri=self._uri)
            with open(source, "rb") as f:  # the bytes are read, as libvirt's stream does
                self.uploaded[path] = f.read()
            volumes[path] = gib_for(len(self.uploaded[path]))
            return path

    def volume_exists(self, path: str) -> bool:
        with self._cond:
            self._enter("volume_exists")
            return path in self._cloud.volumes_for(self, path)

    def resize_volume(self, path: str, gib: int) -> None:
        with self._cond:
            self._enter("resize_volume")
            self._grow(path, gib)

    def _grow(self, path: str, gib: int) -> None:
        volumes = self._cloud.volumes_for(self, path)
        if path not in volumes:
            raise HypervisorFailure(f"no storage vol with matching path '{path}'", uri=self._uri)
        if gib < volumes[path]:
            raise InvalidInput("Can't shrink capacity below current capacity", uri=self._uri)
        volumes[path] = gib

    def attach_disk(self, uuid: str, path: str, target: str) -> None:
        with self._cond:
            self._enter("attach_disk")
            dom = self._get(uuid)
            if target in dom.data_disks:
                raise HypervisorOperationInvalid(f"target {target} already exists", uri=self._uri)
            if not self._cloud.volume_visible(self, path):
                raise HypervisorFailure(
                    f"Cannot access storage file '{path}': No such file or directory",
                    uri=self._uri,
                )
            dom.data_disks[target] = path

    def detach_disk(self, uuid: str, path: str, target: str) -> None:
        with self._cond:
            self._enter("detach_disk")
            dom = self._get(uuid)
            if dom.active and self.guest_holds_disks and target in dom.data_disks:
                raise HypervisorOperationInvalid(
                    f"the guest did not release disk {target}; try again", uri=self._uri
                )
            dom.data_disks.pop(target, None)

    def attach_nic(self, uuid: str, nic: NicSpec) -> None:
        with self._cond:
            self._enter("attach_nic")
            dom = self._get(uuid)
            if nic.mac in dom.nics:
                raise HypervisorOperationInvalid(
                    f"operation failed: device is already in the domain configuration "
                    f"(MAC {nic.mac})",
                    uri=self._uri,
                )
            if dom.active:
                self._check_nic_source(nic)
            dom.nics[nic.mac] = nic

    def detach_nic(self, uuid: str, nic: NicSpec) -> None:
        with self._cond:
            self._enter("detach_nic")
            dom = self._get(uuid)
            if dom.active and self.guest_holds_nics and nic.mac in dom.nics:
                raise HypervisorOperationInvalid(
                    f"the guest did not release NIC {nic.mac}; try again", uri=self._uri
                )
            dom.nics.pop(nic.mac, None)

    def host_networks(self) -> HostNetworks:
        with self._cond:
            self._enter("host_networks")
            return HostNetworks(frozenset(self.bridges), frozenset(self.libvirt_networks))

    def ensure_network(self, spec: NetworkSpec) -> None:
        with self._cond:
            self._enter("ensure_network")
            self.libvirt_networks.setdefault(spec.name, spec)

    def remove_network(self, name: str) -> None:
        with self._cond:
            self._enter("remove_network")
            self.libvirt_networks.pop(name, None)

    def resize_disk(self, uuid: str, path: str, target: str, gib: int) -> None:
        with self._cond:
            self._enter("resize_disk")
            dom = self._get(uuid)
            if dom.data_disks.get(target) != path:
                raise DomainMissing(f"disk {target} not found", uri=self._uri)
            self._grow(path, gib)

    def delete_volume(self, path: str) -> None:
        with self._cond:
            self._enter("delete_volume")
            self.storage_folders.add(str(PurePosixPath(path).parent))
            self._cloud.volumes_for(self, path).pop(path, None)

    def sample_load(self) -> LoadSample:
        with self._cond:
            self._enter("sample_load")
            # Each sample is one more second of the host's life.
            self._total_ns += self.cpus * NS
            self._busy_ns += int(self.cpus * NS * self.busy_fraction)
            loads: list[DomainLoad] = []
            for dom in sorted(self.domains.values(), key=lambda d: d.name):
                if dom.state != PowerState.RUNNING or dom.incoming:
                    continue
                dom.cpu_time_ns += int(dom.vcpus * NS * dom.cpu_busy_fraction)
                loads.append(DomainLoad(dom.uuid, dom.cpu_time_ns, dom.vcpus, dom.memory_mib))
            return LoadSample(self._busy_ns, self._total_ns, self.cpus, tuple(loads))

    def folder_capacity_gib(self, folder: str) -> int:
        with self._cond:
            self._enter("folder_capacity_gib")
            self.storage_folders.add(folder)  # libvirt defines a storage pool for it
            return self.folder_capacity.get(folder, self.disk_gib)

    def prepare_storage(self, folder: str) -> None:
        with self._cond:
            self._enter("prepare_storage")
            self.storage_folders.add(folder)

    def is_active(self, uuid: str) -> bool:
        with self._cond:
            self._enter("is_active")
            dom = self.domains.get(uuid)
            return dom is not None and dom.active

    def migrate(self, uuid: str, request: MigrationRequest) -> None:
        """Blocks until the job ends: the domain then runs on the target, or (failed,
        aborted) still on this host."""
        job = self._begin_migration(uuid, request)
        self._run_migration(job)
        with self._cond:
            if self.unreachable:
                # The job ran in the source's libvirtd; the caller lost its connection.
                raise HostUnreachable(
                    f"host {self._uri} cannot be reached: the connection broke", uri=self._uri
                )
            if job.error is not None:
                raise job.error

    def job_progress(self, uuid: str) -> JobProgress:
        with self._cond:
            self._enter("job_progress")
            dom = self._get(uuid)
            if dom.job is None or dom.incoming:
                return JobProgress(active=False)
            return dom.job.progress()

    def completed_job(self, uuid: str) -> JobProgress:
        with self._cond:
            self._enter("completed_job")
            dom = self._get(uuid)
            return dom.completed or JobProgress(active=False)

    def abort_job(self, uuid: str) -> None:
        with self._cond:
            self._enter("abort_job")
            dom = self._get(uuid)
            job = dom.job
            if job is None or dom.incoming:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: no job is active on the domain",
                    uri=self._uri,
                )
            if job.post_copy:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: cannot abort migration in post-copy mode",
                    uri=self._uri,
                )
            job.aborted = True
            self._cond.notify_all()

    def set_max_downtime(self, uuid: str, ms: int) -> None:
        with self._cond:
            self._enter("set_max_downtime")
            dom = self._get(uuid)
            if not dom.active:
                raise HypervisorOperationInvalid("domain is not running", uri=self._uri)
            dom.max_downtime_ms = ms
            dom.downtimes_set.append(ms)

    def start_post_copy(self, uuid: str) -> None:
        with self._cond:
            self._enter("start_post_copy")
            dom = self._get(uuid)
            job = dom.job
            if job is None or dom.incoming:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: no job is active on the domain",
                    uri=self._uri,
                )
            if not job.request.allow_post_copy:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: switching to post-copy requires "
                    "migration to be started with VIR_MIGRATE_POSTCOPY",
                    uri=self._uri,
                )
            if job.post_copy:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: post-copy already started",
                    uri=self._uri,
                )
            job.post_copy = True  # it converges now, whatever holds it
            self._cond.notify_all()

    # --- snapshots -----------------------------------------------------------------

    def create_snapshot(self, uuid: str, name: str, with_memory: bool) -> str:
        with self._cond:
            self._enter("create_snapshot")
            dom = self._get(uuid)
            mine = self.snapshots.setdefault(uuid, {})
            if name in mine:
                raise HypervisorOperationInvalid(
                    f"domain snapshot '{name}' already exists", uri=self._uri
                )
            disks = [p for p in (dom.disk_path, *dom.data_disks.values()) if p]
            if not disks:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: no disk to snapshot", uri=self._uri
                )
            if dom.active and not with_memory:
                raise HypervisorOperationInvalid(
                    "internal snapshot of a running VM must include the memory state",
                    uri=self._uri,
                )
            for current in mine.values():
                current.current = False
            xml = (
                f"<domainsnapshot><name>{name}</name><state>{dom.state}</state>"
                f"<memory snapshot='{'internal' if with_memory else 'no'}'/>"
                f"<domain><uuid>{uuid}</uuid><vcpu placement='static'>{dom.vcpus}</vcpu>"
                f"<currentMemory unit='KiB'>{dom.memory_mib * 1024}</currentMemory>"
                "</domain></domainsnapshot>"
            )
            mine[name] = FakeSnapshot(name, with_memory, dom.state, xml, current=True)
            return xml

    def revert_snapshot(self, uuid: str, name: str) -> None:
        with self._cond:
            self._enter("revert_snapshot")
            dom = self._get(uuid)
            snap = self.snapshots.get(uuid, {}).get(name)
            if snap is None:
                raise HypervisorFailure(
                    f"Domain snapshot not found: no domain snapshot with matching name '{name}'",
                    uri=self._uri,
                )
            recorded = snapshot_sizes(snap.xml)  # libvirt gives back the recorded domain
            if recorded is not None:
                dom.vcpus, dom.memory_mib = recorded
            if snap.with_memory:
                dom.state = PowerState.RUNNING
            elif dom.active:
                self._power_off(dom)
            for other in self.snapshots[uuid].values():
                other.current = other is snap
            self.reverts.append((uuid, name))

    def delete_snapshot(self, uuid: str, name: str, metadata_only: bool = False) -> None:
        with self._cond:
            self._enter("delete_snapshot")
            self._get(uuid)
            self.snapshots.get(uuid, {}).pop(name, None)

    def snapshot_xml(self, uuid: str, name: str) -> str:
        with self._cond:
            self._enter("snapshot_xml")
            self._get(uuid)
            snap = self.snapshots.get(uuid, {}).get(name)
            if snap is None:
                raise HypervisorFailure(f"no domain snapshot named '{name}'", uri=self._uri)
            return snap.xml

    def snapshot_names(self, uuid: str) -> list[str]:
        with self._cond:
            self._enter("snapshot_names")
            self._get(uuid)
            return list(self.snapshots.get(uuid, {}))

    def current_snapshot(self, uuid: str) -> str | None:
        with self._cond:
            self._enter("current_snapshot")
            self._get(uuid)
            return next((n for n, s in self.snapshots.get(uuid, {}).items() if s.current), None)

    def redefine_snapshot(self, uuid: str, xml: str, current: bool) -> None:
        with self._cond:
            self._enter("redefine_snapshot")
            self._get(uuid)
            name = xml.split("<name>", 1)[1].split("</name>", 1)[0]
            with_memory = "snapshot='internal'" in xml
            mine = self.snapshots.setdefault(uuid, {})
            if current:
                for other in mine.values():
                    other.current = False
            mine[name] = FakeSnapshot(name, with_memory, PowerState.RUNNING, xml, current)

    # --- copies of a volume (reclaim: snapshot_then_delete) -------------------------

    def clone_volume(self, path: str, folder: str, name: str) -> str:
        """A standalone qcow2 copy of what the source holds: its uploaded bytes, else a
        disk that names the source (a fake overlay holds no bytes)."""
        with self._cond:
            self._enter("clone_volume")
            volumes = self._cloud.volumes_for(self, path)
            if path not in volumes:
                raise HypervisorFailure(
                    f"no storage vol with matching path '{path}'", uri=self._uri
                )
            self.storage_folders.add(folder)
            new = str(PurePosixPath(folder) / f"{name}.qcow2")
            target = self._cloud.volumes_for(self, new)
            if new in target:
                raise HypervisorFailure(
                    f"storage volume '{name}.qcow2' exists already", uri=self._uri
                )
            content = as_qcow2(self.uploaded.get(path) or fake_disk_bytes(path))
            target[new] = volumes[path]
            self.uploaded[new] = content
            return new

    def read_volume(self, path: str) -> Iterator[bytes]:
        with self._cond:
            self._enter("read_volume")
            if path not in self._cloud.volumes_for(self, path):
                raise HypervisorFailure(
                    f"no storage vol with matching path '{path}'", uri=self._uri
                )
            data = self.uploaded.get(path, b"")
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    # --- hot-plug and resize ------------------------------------------------------------

    def set_vcpus(self, uuid: str, vcpus: int) -> None:
        with self._cond:
            self._enter("set_vcpus")
            dom = self._get(uuid)
            spec = dom.spec
            most = (spec.max_vcpus or spec.vcpus) if spec is not None else dom.vcpus
            if vcpus > most:
                raise InvalidInput(
                    f"invalid argument: requested vcpus is greater than max allowable vcpus "
                    f"for the live domain: {vcpus} > {most}",
                    uri=self._uri,
                )
            dom.vcpus = vcpus

    def set_memory(self, uuid: str, memory_mib: int, wait_s: float) -> int:
        with self._cond:
            self._enter("set_memory")
            dom = self._get(uuid)
            spec = dom.spec
            most = (spec.max_memory_mib or spec.memory_mib) if spec is not None else dom.memory_mib
            if memory_mib > most:
                raise InvalidInput(
                    "invalid argument: cannot set memory higher than max memory", uri=self._uri
                )
            before = dom.memory_mib
            dom.memory_mib = memory_mib
            if dom.active and self.guest_keeps_memory and memory_mib < before:
                return before  # the balloon's target is set; the guest did not get there
            return memory_mib

    # --- failure injection and switches ---------------------------------------------

    def fail_next(self, method: str, error: VmpoolError | None = None) -> None:
        """The next call of port method `method` raises `error` (a HypervisorFailure by
        default) after the reachability check, before doing anything."""
        with self._cond:
            self._fail_next[method] = error or HypervisorFailure(
                f"injected failure of {method}", uri=self._uri
            )

    def fail_next_migration(
        self,
        message: str = "operation failed: migration job: unexpectedly failed",
        *,
        at_step: int = 1,
        error: VmpoolError | None = None,
    ) -> None:
        """The next migration out of this host fails when it reaches step `at_step`."""
        with self._cond:
            self._migration_failure = (error or HypervisorFailure(message, uri=self._uri), at_step)

    def hold_migrations(self) -> None:
        """Migrations out of this host stop after their first step until released (or
        aborted, or switched to post-copy)."""
        with self._cond:
            self._holding = True

    def release_migrations(self) -> None:
        with self._cond:
            self._holding = False
            self._cond.notify_all()

    @property
    def holding(self) -> bool:
        with self._cond:
            return self._holding

    # --- out-of-band changes (what an operator or a guest does behind vmpool) -------

    def power_off_out_of_band(self, uuid: str) -> None:
        """`virsh destroy`, or the guest powering itself off."""
        with self._cond:
            self._power_off(self._get(uuid))

    def start_out_of_band(self, uuid: str) -> None:
        with self._cond:
            dom = self._get(uuid)
            if not dom.active:
                dom.state = PowerState.RUNNING
                dom.boots += 1

    def crash_out_of_band(self, uuid: str) -> None:
        with self._cond:
            dom = self._get(uuid)
            self._kill_job(dom)
            dom.state = PowerState.CRASHED

    def pause_out_of_band(self, uuid: str) -> None:
        with self._cond:
            dom = self._get(uuid)
            if not dom.active:
                raise HypervisorOperationInvalid("domain is not running", uri=self._uri)
            dom.state = PowerState.PAUSED

    def undefine_out_of_band(self, uuid: str) -> None:
        """`virsh destroy` then `virsh undefine`: the domain is gone from this host."""
        with self._cond:
            dom = self._get(uuid)
            self._kill_job(dom)
            del self.domains[uuid]

    def add_foreign_domain(
        self, name: str, state: str = PowerState.RUNNING, uuid: str | None = None
    ) -> str:
        """A domain vmpool did not define (no vmpool metadata); answers its UUID."""
        with self._cond:
            dom_uuid = uuid or str(uuidlib.uuid4())
            self.domains[dom_uuid] = FakeDomain(
                uuid=dom_uuid,
                name=name,
                vcpus=1,
                memory_mib=128,
                domain_type=DomainType.QEMU,
                arch=self.arch,
                state=state,
            )
            return dom_uuid

    def migrate_in_background(self, uuid: str, request: MigrationRequest) -> FakeJob:
        """Start a migration whose caller is gone at once (a vmpool that died after
        starting it): the job goes on in the "libvirtd" of this host, on a thread."""
        job = self._begin_migration(uuid, request)
        threading.Thread(
            target=self._run_migration, args=(job,), name=f"fake-migration-{uuid}", daemon=True
        ).start()
        return job

    # --- reading the state, for assertions ------------------------------------------

    def has_domain(self, uuid: str) -> bool:
        """Whether the domain is defined here (an incoming one is not counted)."""
        with self._cond:
            dom = self.domains.get(uuid)
            return dom is not None and not dom.incoming

    def state_of(self, uuid: str) -> str | None:
        """The power state of the domain here, or None when it is not here."""
        with self._cond:
            dom = self.domains.get(uuid)
            return dom.state if dom is not None else None

    def get_domain(self, uuid: str) -> FakeDomain:
        with self._cond:
            return self._get(uuid)

    def domain_uuids(self) -> set[str]:
        with self._cond:
            return {u for u, d in self.domains.items() if not d.incoming}

    def volume_paths(self) -> set[str]:
        """The disks of folders private to this host."""
        with self._cond:
            return set(self.volumes)

    def calls_of(self, method: str) -> int:
        with self._cond:
            return self.calls.count(method)

    def migrating(self, uuid: str) -> FakeJob | None:
        """The migration job of the domain here, if one runs."""
        with self._cond:
            dom = self.domains.get(uuid)
            if dom is None or dom.incoming or dom.job is None or dom.job.ended:
                return None
            return dom.job

    def wait_for_migration(self, uuid: str, timeout_s: float = 10.0) -> JobProgress:
        """Wait until a migration of `uuid` out of this host has made its first step;
        answers its progress then. A test holding migrations uses it to catch one in flight."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                job = self.migrating(uuid)
                if job is not None and job.done_steps >= 1:
                    return job.progress()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no migration of {uuid} in flight on {self._uri}")
                self._cond.wait(left)

    # --- inside ------------------------------------------------------------------------

    def _enter(self, method: str) -> None:
        """Every port call: recorded, refused when unreachable, or failed when injected."""
        self.calls.append(method)
        if self.unreachable:
            raise HostUnreachable(
                f"host {self._uri} cannot be reached: unable to connect to server", uri=self._uri
            )
        injected = self._fail_next.pop(method, None)
        if injected is not None:
            raise injected

    def _get(self, uuid: str) -> FakeDomain:
        dom = self.domains.get(uuid)
        if dom is None:
            raise DomainMissing(
                f"no such domain on {self._uri}",
                uri=self._uri,
                libvirt_message=f"Domain not found: no domain with matching uuid '{uuid}'",
            )
        return dom

    def _power_off(self, dom: FakeDomain) -> None:
        self._kill_job(dom)
        dom.state = PowerState.STOPPED

    def _kill_job(self, dom: FakeDomain) -> None:
        if dom.job is not None and not dom.incoming:
            dom.job.killed = True
            self._cond.notify_all()

    def _begin_migration(self, uuid: str, request: MigrationRequest) -> FakeJob:
        with self._cond:
            self._enter("migrate")
            self.migration_requests.append(request)
            dom = self._get(uuid)
            if not dom.active:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: domain is not running", uri=self._uri
                )
            if dom.job is not None or dom.incoming:
                raise HypervisorFailure(
                    "Timed out during operation: cannot acquire state change lock",
                    uri=self._uri,
                )
            target = self._cloud.find(request.dest_uri)
            if target is None or target.unreachable:
                # Peer to peer: the source's libvirtd cannot reach the target's.
                raise HypervisorFailure(
                    f"operation failed: unable to connect to server at '{request.dest_uri}'",
                    uri=self._uri,
                )
            if target is self:
                raise HypervisorOperationInvalid(
                    "Requested operation is not valid: attempt to migrate a guest to the same host",
                    uri=self._uri,
                )
            if uuid in target.domains:
                raise HypervisorFailure(
                    f"operation failed: domain '{dom.name}' is already defined on the target",
                    uri=self._uri,
                )
            self._check_storage(dom, request, target)
            for nic in dom.nics.values():
                target._check_nic_source(nic)  # as the target's QEMU starts
            if request.max_downtime_ms is not None:
                dom.max_downtime_ms = request.max_downtime_ms
                dom.downtimes_set.append(request.max_downtime_ms)
            failure, at_step = self._migration_failure or (None, 1)
            self._migration_failure = None
            job = FakeJob(
                uuid=uuid,
                request=request,
                source=self,
                target=target,
                steps=max(1, self.migration_steps),
                data_total=dom.memory_mib * MIB,
                dirty_rate=self.migration_dirty_rate,
                failure=failure,
                fail_at_step=at_step,
            )
            dom.job = job
            # libvirt's incoming domain: paused on the target until the switch-over.
            target.domains[uuid] = FakeDomain(
                uuid=uuid,
                name=dom.name,
                vcpus=dom.vcpus,
                memory_mib=dom.memory_mib,
                domain_type=dom.domain_type,
                arch=dom.arch,
                state=PowerState.PAUSED,
                vmpool_vm_id=dom.vmpool_vm_id,
                spec=_dest_spec(dom.spec, request),
                disk_path=dom.disk_path,
                nics=dict(dom.nics),
                incoming=True,
                job=job,
            )
            self._cond.notify_all()
            return job

    def _check_storage(self, dom: FakeDomain, request: MigrationRequest, target: FakeHost) -> None:
        paths = {"vda": dom.disk_path} if dom.disk_path else {}
        paths.update(dom.data_disks)
        if dom.spec is not None and dom.spec.seed_path is not None:
            paths["hdc"] = dom.spec.seed_path  # read-only: never copied, must be there
        copied = set(request.disks) if request.copy_storage else set()
        for disk_target, path in paths.items():
            assert path is not None
            if disk_target in copied:
                # Incremental copy, as vmpool asks: libvirt 9.0 copies into a volume that
                # must exist on the target already (it does not pre-create for it).
                if path not in target.volumes:
                    raise HypervisorFailure(
                        "operation failed: pre-creation of storage targets for incremental "
                        f"storage migration is not supported ({path})",
                        uri=self._uri,
                    )
                continue
            if not self._cloud.volume_visible(target, path):
                raise HypervisorFailure(
                    f"Cannot access storage file '{path}': No such file or directory",
                    uri=self._uri,
                )
            if self._cloud.is_shared(path) and not request.trust_shared_storage:
                # As in the lab: libvirt does not recognise the folder as a shared file system.
                raise HypervisorFailure(
                    "Unsafe migration: Migration without shared storage is unsafe", uri=self._uri
                )

    def _run_migration(self, job: FakeJob) -> None:
        """Run the job to its end; its outcome (an error) is left in `job.error`."""
        with self._cond:
            try:
                for step in range(1, job.steps + 1):
                    self._check_job(job, step)
                    job.done_steps = step
                    self._cond.notify_all()
                    if step < job.steps:
                        self._pause_between_steps(job)
                self._check_job(job, None)
                self._complete(job)
            except VmpoolError as exc:
                job.error = exc
                self._fail(job)
            finally:
                job.ended = True
                self._cond.notify_all()

    def _pause_between_steps(self, job: FakeJob) -> None:
        until = time.monotonic() + self.migration_step_s
        while not (job.post_copy or job.aborted or job.killed):
            if self._holding:
                self._cond.wait(0.05)
                continue
            left = until - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _check_job(self, job: FakeJob, step: int | None) -> None:
        if job.killed:
            raise HypervisorFailure(
                "operation failed: domain is not running any more", uri=self._uri
            )
        if job.aborted and not job.post_copy:
            raise HypervisorFailure(ABORTED_MESSAGE, uri=self._uri)
        if job.failure is not None and (step is None or step >= job.fail_at_step):
            raise job.failure
        if job.target.unreachable:
            raise HypervisorFailure(
                "operation failed: migration out job: unexpectedly failed (the target "
                "stopped answering)",
                uri=self._uri,
            )

    def _complete(self, job: FakeJob) -> None:
        dom = self.domains.pop(job.uuid)  # UNDEFINE_SOURCE
        dom.job = None
        dom.state = PowerState.RUNNING
        dom.completed = JobProgress(
            active=False,
            time_elapsed_ms=job.elapsed_ms(),
            data_total=job.data_total,
            data_processed=job.data_total,
            data_remaining=0,
            memory_dirty_rate=job.dirty_rate,
            iteration=job.done_steps,
            downtime_ms=self.migration_downtime_ms,
        )
        dom.spec = _dest_spec(dom.spec, job.request)  # DEST_XML / PERSIST_XML
        job.target.domains[job.uuid] = dom  # PERSIST_DEST: it replaces the incoming one
        # Copied disks went into the volumes vmpool made on the target; the source keeps
        # its own until vmpool removes them.

    def _fail(self, job: FakeJob) -> None:
        incoming = job.target.domains.get(job.uuid)
        if incoming is not None and incoming.incoming:
            del job.target.domains[job.uuid]
        dom = self.domains.get(job.uuid)
        if dom is not None and dom.job is job:
            dom.job = None
            progress = job.progress()
            dom.completed = JobProgress(
                active=False,
                time_elapsed_ms=progress.time_elapsed_ms,
                data_total=progress.data_total,
                data_processed=progress.data_processed,
                data_remaining=progress.data_remaining,
                memory_dirty_rate=progress.memory_dirty_rate,
                iteration=progress.iteration,
            )


class FakeCloud:
    """Fake hosts by URI: the `HypervisorConnector` of a test's ServiceContext.

    Folders in `shared_folders` are seen by every host (an NFS mount): their volumes
    live in the cloud, not on one host."""

    def __init__(self, shared_folders: Iterable[str] = ()) -> None:
        self.cond = threading.Condition(threading.RLock())
        self._hosts: dict[str, FakeHost] = {}
        self.shared_folders: set[str] = set(shared_folders)
        self.shared_volumes: dict[str, int] = {}
        self.connects: list[str] = []
        self.forgotten: list[str] = []

    # --- the HypervisorConnector port -----------------------------------------------

    def connect(self, uri: str) -> FakeHost:
        with self.cond:
            self.connects.append(uri)
            host = self._hosts.get(uri)
            if host is None or host.unreachable:
                raise HostUnreachable(
                    f"host {uri} cannot be reached: unable to connect to server", uri=uri
                )
            return host

    def forget(self, uri: str) -> None:
        with self.cond:
            self.forgotten.append(uri)

    # --- building and reading -------------------------------------------------------

    def add_host(
        self,
        uri: str,
        *,
        hostname: str | None = None,
        host_uuid: str | None = None,
        arch: str = "x86_64",
        cpus: int = 8,
        memory_mib: int = 16384,
        disk_gib: int = 200,
        domain_types: frozenset[DomainType] = frozenset({DomainType.KVM, DomainType.QEMU}),
        traits: frozenset[str] = frozenset({"kvm"}),
        cpu_model: str = "Fake-Skylake",
    ) -> FakeHost:
        with self.cond:
            if uri in self._hosts:
                raise ValueError(f"a fake host at {uri} exists already")
            host = FakeHost(
                self,
                uri,
                hostname=hostname or f"fake-{len(self._hosts)}.example",
                host_uuid=host_uuid or str(uuidlib.uuid4()),
                arch=arch,
                cpus=cpus,
                memory_mib=memory_mib,
                disk_gib=disk_gib,
                domain_types=domain_types,
                traits=traits,
                cpu_model=cpu_model,
            )
            self._hosts[uri] = host
            return host

    def host(self, uri: str) -> FakeHost:
        with self.cond:
            return self._hosts[uri]

    def find(self, uri: str) -> FakeHost | None:
        with self.cond:
            return self._hosts.get(uri)

    def hosts(self) -> list[FakeHost]:
        with self.cond:
            return list(self._hosts.values())

    def where(self, uuid: str) -> list[str]:
        """The URIs of the hosts that have the domain defined (incoming ones not counted)."""
        with self.cond:
            return [h.uri for h in self._hosts.values() if h.has_domain(uuid)]

    def release_all(self) -> None:
        """Let every held migration go (a test's teardown: nothing stays blocked)."""
        with self.cond:
            for host in self._hosts.values():
                host.release_migrations()

    def wait(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Wait until `predicate()` (read under the lock) holds; woken by every change of
        a migration."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake cloud never reached the awaited state")
                self.cond.wait(min(left, 0.05))

    # --- storage ----------------------------------------------------------------------

    def is_shared(self, path: str) -> bool:
        p = PurePosixPath(path)
        return any(PurePosixPath(f) in p.parents for f in self.shared_folders)

    def volumes_for(self, host: FakeHost, path: str) -> dict[str, int]:
        """The volume table holding `path` as `host` sees it."""
        return self.shared_volumes if self.is_shared(path) else host.volumes

    def volume_visible(self, host: FakeHost, path: str) -> bool:
        with self.cond:
            return path in self.volumes_for(host, path)


def _conforms(cloud: FakeCloud, host: FakeHost) -> tuple[HypervisorConnector, Hypervisor]:
    """Never called: mypy checks here that the fakes implement the ports."""
    return cloud, host


def _dest_spec(spec: DomainSpec | None, request: MigrationRequest) -> DomainSpec | None:
    """The definition the target gets: the source's, pinned to the target's CPUs when the
    migration sends them (as libvirt's VIR_MIGRATE_PARAM_DEST_XML / PERSIST_XML)."""
    cpus = request.dest_cpus
    if spec is None or cpus is None:
        return spec
    return replace(
        spec,
        vcpu_pins=cpus.vcpu_pins,
        vcpu_cells=cpus.vcpu_cells,
        emulator_cpus=cpus.emulator_cpus,
        numa_cells=tuple(sorted(set(cpus.vcpu_cells))),
    )
