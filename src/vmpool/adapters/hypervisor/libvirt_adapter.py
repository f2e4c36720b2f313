"""The `Hypervisor` port, implemented with libvirt-python.

Every libvirt call goes through `translated(...)`, which turns a libvirtError
into a vmpool error. A domain that vanishes between a listing and a lookup is
normal on a live host (virt-manager treats it the same way): it is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace

import libvirt

from vmpool.adapters.hypervisor.base import bounded
from vmpool.adapters.hypervisor.deadline import DEFAULT_TIMEOUT_S, HostCalls
from vmpool.adapters.hypervisor.domain_xml import build_domain_xml, vmpool_vm_id
from vmpool.adapters.hypervisor.errors import translate
from vmpool.adapters.hypervisor.event_loop import ensure_event_loop
from vmpool.adapters.hypervisor.host_hardware import (
    domain_types_of,
    domcaps_traits,
    domcaps_virttype,
    hypervisor_hardware,
)
from vmpool.adapters.hypervisor.networking import LibvirtNetworking
from vmpool.adapters.hypervisor.numa import FreeCounts, numa_cells, numa_traits
from vmpool.adapters.hypervisor.passthrough import LibvirtPassthrough, parse_sgx_epc_mib
from vmpool.adapters.hypervisor.pin_migration import repinned_xml
from vmpool.adapters.hypervisor.snapshots import LibvirtSnapshots
from vmpool.adapters.hypervisor.storage import LibvirtStorage
from vmpool.adapters.hypervisor.volume_copies import LibvirtVolumeCopies
from vmpool.domain.hardware import NumaCell, PciDevice
from vmpool.domain.model import DomainType
from vmpool.domain.ports import (
    CpuPlacement,
    DomainInfo,
    DomainLoad,
    DomainSpec,
    HostInventory,
    JobProgress,
    LoadSample,
    MigrationRequest,
    PowerState,
)
from vmpool.errors import (
    DomainMissing,
    HostUnreachable,
    HypervisorFailure,
    HypervisorOperationInvalid,
    VmpoolError,
)

log = logging.getLogger(__name__)

_STATE_MAP = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTTING_DOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.STOPPED,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.PAUSED,
}

# How long an unplug the guest is slow to act on is awaited beyond libvirt's own 5 s (within
# the call's deadline).
VCPU_UNPLUG_WAIT_S = 8.0

# libvirt has no connect timeout of its own; an address that swallows packets
# would block the caller for minutes.
CONNECT_TIMEOUT_S = 10.0

# libvirt prints every error to stderr unless a handler is set.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def _version(n: int) -> str:
    return f"{n // 1_000_000}.{(n // 1000) % 1000}.{n % 1000}"


class LibvirtHypervisor(
    LibvirtVolumeCopies, LibvirtStorage, LibvirtNetworking, LibvirtSnapshots, LibvirtPassthrough
):
    """One host. Every method but `migrate` (which runs for the migration's whole length on
    a connection of its own, watched by the migration's own timeout) has a deadline."""

    def __init__(
        self,
        uri: str,
        conn: libvirt.virConnect,
        on_broken: Callable[[], None],
        calls: HostCalls | None = None,
    ) -> None:
        super().__init__(uri, conn, on_broken, calls or HostCalls())

    @bounded
    def inventory(self) -> HostInventory:
        with self._guard():
            caps_xml = self._conn.getCapabilities()
            caps = ET.fromstring(caps_xml)
            info = self._conn.getInfo()
            hostname = self._conn.getHostname()
            libvirt_version = _version(self._conn.getLibVersion())
            hv_version = _version(self._conn.getVersion())
        cells = self._numa_cells(caps)
        arch = caps.findtext("host/cpu/arch") or str(info[0])
        domain_types = {
            DomainType(kind)
            for kind in domain_types_of(caps, arch)
            if kind in (DomainType.KVM.value, DomainType.QEMU.value)
        }
        virttype = domcaps_virttype(caps_xml, arch)
        domcaps = self._domain_capabilities(arch, virttype)
        hardware = replace(
            hypervisor_hardware(self._uri, caps_xml, domcaps, arch),
            cells=cells,
            sgx_epc_mib=parse_sgx_epc_mib(domcaps or ""),
        )
        return HostInventory(
            hostname=hostname,
            host_uuid=caps.findtext("host/uuid") or "",
            arch=arch,
            cpus=int(info[2]),
            memory_mib=int(info[1]),
            domain_types=frozenset(domain_types),
            libvirt_version=libvirt_version,
            hypervisor_version=hv_version,
            cpu_model=caps.findtext("host/cpu/model") or "",
            traits=frozenset(domcaps_traits(domcaps, virttype, hardware) | numa_traits(cells)),
            hardware=hardware,
            pci_devices=self._pci_devices_or_none(),
        )

    def _domain_capabilities(self, arch: str, virttype: str | None) -> str | None:
        """The host's domain capabilities for `arch` (one fetch per inventory: the traits,
        machine types, features and SGX all come from it); None for a driver without them
        (test://)."""
        try:
            with self._guard():
                caps: str = self._conn.getDomainCapabilities(None, arch, None, virttype, 0)
                return caps
        except HostUnreachable:
            raise
        except VmpoolError:
            return None

    def _pci_devices_or_none(self) -> tuple[PciDevice, ...] | None:
        """Its PCI devices; None when the node device API fails on its own (the host answers
        otherwise): its recorded devices stay as they are, rather than the whole inventory
        failing and the host being taken for unreachable."""
        try:
            return self._pci_devices()
        except HostUnreachable:
            raise
        except VmpoolError:
            log.warning("host %s: its PCI devices could not be listed", self._uri, exc_info=True)
            return None

    def _numa_cells(self, caps: ET.Element) -> tuple[NumaCell, ...]:
        def free_pages(sizes: Sequence[int], start: int, count: int) -> FreeCounts:
            with self._guard():
                return self._conn.getFreePages(list(sizes), start, count, 0) or {}

        return numa_cells(caps, free_pages)

    def _lookup(self, uuid: str) -> libvirt.virDomain:
        with self._guard():
            return self._conn.lookupByUUIDString(uuid)

    def _info(self, dom: libvirt.virDomain) -> DomainInfo:
        state, _reason = dom.state()
        return DomainInfo(
            uuid=dom.UUIDString(),
            name=dom.name(),
            state=_STATE_MAP.get(state, PowerState.RUNNING),
            vmpool_vm_id=vmpool_vm_id(dom.XMLDesc(0)),
        )

    @bounded
    def list_domains(self) -> list[DomainInfo]:
        with self._guard():
            doms = self._conn.listAllDomains(0)
        return self.describe(doms)

    @bounded
    def describe(self, doms: list[libvirt.virDomain]) -> list[DomainInfo]:
        """The info of each domain still there; one gone since it was listed is skipped."""
        result: list[DomainInfo] = []
        for dom in doms:
            try:
                with self._guard():
                    result.append(self._info(dom))
            except DomainMissing:
                continue  # it went away between the listing and the lookup
        return result

    @bounded
    def domain(self, uuid: str) -> DomainInfo:
        dom = self._lookup(uuid)
        with self._guard():
            return self._info(dom)

    @bounded
    def define(self, spec: DomainSpec) -> None:
        xml = build_domain_xml(spec)
        with self._guard():
            self._conn.defineXML(xml)

    @bounded
    def start(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            if not dom.isActive():
                dom.create()

    @bounded
    def shutdown(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            if not dom.isActive():
                raise HypervisorOperationInvalid("domain is not running", uri=self._uri)
            dom.shutdown()

    @bounded
    def destroy(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        try:
            with self._guard():
                if dom.isActive():
                    dom.destroy()
        except HypervisorOperationInvalid:
            pass  # it stopped on its own meanwhile: the outcome is the one asked for

    @bounded
    def reboot(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            dom.reboot(0)

    @bounded
    def undefine(self, uuid: str) -> None:
        try:
            dom = self._lookup(uuid)
        except DomainMissing:
            return  # already gone: what was asked for
        try:
            with self._guard():
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(
                    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                )
        except DomainMissing:
            return

    @bounded
    def sample_load(self) -> LoadSample:
        with self._guard():
            host = self._conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
            cpus = int(self._conn.getInfo()[2])
            stats = self._conn.getAllDomainStats(
                libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                | libvirt.VIR_DOMAIN_STATS_BALLOON
                | libvirt.VIR_DOMAIN_STATS_VCPU,
                # NOWAIT: a domain busy with a job (a migration arriving) answers what it
                # can at once instead of holding the whole host's sample until the deadline
                libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
                | libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT,
            )
        busy = int(host.get("kernel", 0)) + int(host.get("user", 0))
        total = busy + int(host.get("idle", 0)) + int(host.get("iowait", 0))
        domains: list[DomainLoad] = []
        for dom, values in stats:
            try:
                uuid = dom.UUIDString()
            except libvirt.libvirtError:
                continue  # gone since the listing
            kib = values.get("balloon.rss") or values.get("balloon.current")
            domains.append(
                DomainLoad(
                    uuid=uuid,
                    cpu_time_ns=int(values.get("cpu.time", 0)),
                    vcpus=int(values.get("vcpu.current", 1)),
                    memory_used_mib=int(kib) // 1024 if kib else None,
                )
            )
        return LoadSample(busy, total, cpus, tuple(domains))

    @bounded
    def is_active(self, uuid: str) -> bool:
        try:
            dom = self._lookup(uuid)
            with self._guard():
                return bool(dom.isActive())
        except DomainMissing:
            return False

    def migrate(self, uuid: str, request: MigrationRequest) -> None:
        # The migration call blocks for its whole length. It gets a connection of its own,
        # so that progress queries and an abort on the shared one are never stuck behind
        # it (seen on libvirt 9.0: a jobStats call that never returned during a migration).
        with self._guard():
            conn = libvirt.open(self._uri)
        try:
            with self._guard():
                dom = conn.lookupByUUIDString(uuid)
            self._migrate(dom, request)
        finally:
            try:
                conn.close()
            except libvirt.libvirtError:
                log.debug("closing the migration connection failed", exc_info=True)

    def _migrate(self, dom: libvirt.virDomain, request: MigrationRequest) -> None:
        # Peer to peer: the source libvirtd drives the migration, so it goes on (and
        # finishes or fails cleanly) even if vmpool dies meanwhile.
        flags = (
            libvirt.VIR_MIGRATE_LIVE
            | libvirt.VIR_MIGRATE_PEER2PEER
            | libvirt.VIR_MIGRATE_PERSIST_DEST
            | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        )
        params: dict[str, object] = {libvirt.VIR_MIGRATE_PARAM_URI: request.data_uri}
        if request.auto_converge:
            flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
        if request.allow_post_copy:
            flags |= libvirt.VIR_MIGRATE_POSTCOPY
        if request.copy_storage:
            # Incremental: only each disk's top layer crosses (an overlay's base image is on
            # the target already). vmpool made the target volumes (libvirt 9.0 does not for
            # incremental copies).
            flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
            if request.disks:
                params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = list(request.disks)
        if request.trust_shared_storage:
            flags |= libvirt.VIR_MIGRATE_UNSAFE
        if request.tls:
            flags |= libvirt.VIR_MIGRATE_TLS
        if request.bandwidth_mib_s is not None:
            params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = request.bandwidth_mib_s
        with self._guard():
            if request.dest_cpus is not None:
                params.update(_dest_definitions(dom, request.dest_cpus))
            if request.max_downtime_ms is not None:
                dom.migrateSetMaxDowntime(request.max_downtime_ms, 0)
            dom.migrateToURI3(request.dest_uri, params, flags)

    @bounded
    def job_progress(self, uuid: str) -> JobProgress:
        dom = self._lookup(uuid)
        try:
            with self._guard():
                stats = dom.jobStats(0)
        except HypervisorOperationInvalid:
            return JobProgress(active=False)  # the job ended between two looks
        return _progress(stats)

    @bounded
    def completed_job(self, uuid: str) -> JobProgress:
        dom = self._lookup(uuid)
        with self._guard():
            stats = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        return _progress(stats)

    @bounded
    def abort_job(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            dom.abortJob()

    @bounded
    def set_max_downtime(self, uuid: str, ms: int) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            dom.migrateSetMaxDowntime(ms, 0)

    @bounded
    def start_post_copy(self, uuid: str) -> None:
        dom = self._lookup(uuid)
        with self._guard():
            dom.migrateStartPostCopy(0)

    # --- hot-plug and resize (docs/lifecycle.md) ---

    @bounded
    def set_vcpus(self, uuid: str, vcpus: int, wait_s: float = VCPU_UNPLUG_WAIT_S) -> None:
        dom = self._lookup(uuid)
        try:
            with self._guard():
                flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
                if dom.isActive():
                    flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
                # Live: libvirt plugs (or asks the guest to unplug, and waits for it) one
                # vCPU at a time; it raises if the guest does not let one go in its 5 s.
                dom.setVcpusFlags(vcpus, flags)
        except HypervisorFailure as exc:
            if exc.details.get("libvirt_code") != libvirt.VIR_ERR_OPERATION_TIMEOUT:
                exc.details["live_vcpus"] = self._live_vcpus(dom)  # part-way: how many now
                raise
            # An unplug the guest is slow to act on (a TCG guest takes more than libvirt's
            # 5 s): libvirt still removes the vCPU when the guest lets it go. Wait for it.
            self._await_unplug(dom, vcpus, wait_s, exc)

    def _await_unplug(
        self, dom: libvirt.virDomain, vcpus: int, wait_s: float, cause: HypervisorFailure
    ) -> None:
        deadline = time.monotonic() + wait_s
        live = self._live_vcpus(dom)
        while live is not None and live > vcpus and time.monotonic() < deadline:
            time.sleep(0.5)
            live = self._live_vcpus(dom)
        if live is not None and live <= vcpus:
            with self._guard():
                dom.setVcpusFlags(
                    vcpus, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
                )
            return
        raise HypervisorOperationInvalid(
            f"the guest still runs {live} vCPUs, not {vcpus}, after {wait_s + 5:.0f} s: it did "
            "not release the unplugged vCPU (yet); libvirt removes it when the guest does",
            uri=self._uri,
            live_vcpus=live,
            libvirt_message=cause.message,
        ) from cause

    def _live_vcpus(self, dom: libvirt.virDomain) -> int | None:
        try:
            with self._guard():
                if dom.isActive():
                    return int(dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE))
                return int(dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG))
        except VmpoolError:
            return None

    @bounded
    def set_memory(self, uuid: str, memory_mib: int, wait_s: float) -> int:
        dom = self._lookup(uuid)
        kib = memory_mib * 1024
        with self._guard():
            if not dom.isActive():
                dom.setMemoryFlags(kib, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
                return memory_mib
            before = self._balloon_kib(dom)
            # The balloon's target; the guest's driver inflates (gives memory back) or
            # deflates towards it on its own time.
            dom.setMemoryFlags(
                kib, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
            )
            if kib >= before:
                return memory_mib  # growth: the guest has it as soon as the balloon deflates
            deadline = time.monotonic() + wait_s
            actual = before
            while time.monotonic() < deadline:
                actual = self._balloon_kib(dom)
                if actual <= kib:
                    break
                time.sleep(0.2)
            return -(-actual // 1024)

    @staticmethod
    def _balloon_kib(dom: libvirt.virDomain) -> int:
        """The guest's memory now, as its balloon reports it (KiB)."""
        stats = dom.memoryStats()
        actual = stats.get("actual")
        return int(actual) if actual is not None else int(dom.info()[2])


def _progress(stats: dict[str, object]) -> JobProgress:
    def num(key: str) -> int | None:
        value = stats.get(key)
        return int(value) if isinstance(value, int | float) else None

    return JobProgress(
        active=stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE)
        in (libvirt.VIR_DOMAIN_JOB_BOUNDED, libvirt.VIR_DOMAIN_JOB_UNBOUNDED),
        time_elapsed_ms=num("time_elapsed"),
        data_total=num("data_total"),
        data_processed=num("data_processed"),
        data_remaining=num("data_remaining"),
        memory_dirty_rate=num("memory_dirty_rate"),
        iteration=num("memory_iteration"),
        downtime_ms=num("downtime"),
    )


class LibvirtConnector:
    """Keeps one connection per URI, reopened when it breaks. Connections are watched by
    libvirt keepalive, and every call has a deadline (deadline.py)."""

    def __init__(
        self,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        call_timeout_s: float = DEFAULT_TIMEOUT_S,
        keepalive_interval_s: int = 5,
        keepalive_count: int = 3,
    ) -> None:
        ensure_event_loop()
        self._conns: dict[str, libvirt.virConnect] = {}
        self._lock = threading.Lock()
        self._timeout = connect_timeout_s
        self._keepalive = (keepalive_interval_s, keepalive_count)
        self._listeners: list[Callable[[str], None]] = []
        self._calls = HostCalls(call_timeout_s, on_timeout=self._drop)

    def connect(self, uri: str) -> LibvirtHypervisor:
        self._calls.check(uri)  # cut off after a missed deadline: 503 at once
        with self._lock:
            conn = self._conns.get(uri)
            if conn is not None:
                try:
                    alive = conn.isAlive() == 1
                except libvirt.libvirtError:
                    alive = False
                if not alive:
                    self._close_in_background(conn)
                    del self._conns[uri]
                    conn = None
        if conn is None:
            conn = self._open(uri)  # outside the lock: one slow host must not block others
            with self._lock:
                kept = self._conns.setdefault(uri, conn)
            if kept is not conn:
                self._close_in_background(conn)
                conn = kept
        return LibvirtHypervisor(uri, conn, on_broken=lambda: self.forget(uri), calls=self._calls)

    def _open(self, uri: str) -> libvirt.virConnect:
        result: dict[str, object] = {}

        def opener() -> None:
            try:
                result["conn"] = libvirt.open(uri)
            except libvirt.libvirtError as exc:
                result["error"] = exc

        t = threading.Thread(target=opener, name=f"libvirt-open {uri}", daemon=True)
        t.start()
        t.join(self._timeout)
        if t.is_alive():
            self._calls.cut_off(uri)
            raise HostUnreachable(f"host {uri} did not answer within {self._timeout:g} s", uri=uri)
        err = result.get("error")
        if isinstance(err, libvirt.libvirtError):
            translated_err = translate(err, uri)
            if isinstance(translated_err, HostUnreachable):
                raise translated_err from err
            raise HostUnreachable(
                f"host {uri} cannot be reached: {translated_err.message}", uri=uri
            ) from err
        conn = result.get("conn")
        if not isinstance(conn, libvirt.virConnect):
            raise HostUnreachable(f"host {uri} cannot be reached", uri=uri)
        try:
            conn.setKeepAlive(*self._keepalive)
        except libvirt.libvirtError:
            log.warning("keepalive not available on %s", uri, exc_info=True)
        try:
            # Lifecycle events (started, stopped, crashed, migrated, ...) of every domain,
            # on the event loop's thread: each only tells the listeners which host changed.
            conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, uri
            )
        except libvirt.libvirtError:
            log.warning("domain events not available on %s", uri, exc_info=True)
        return conn

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(uri)` when a domain of the host at `uri` changes state (libvirt's
        lifecycle events); answers the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _on_lifecycle(
        self, _conn: libvirt.virConnect, _dom: libvirt.virDomain, _event: int, _detail: int,
        uri: str,
    ) -> None:  # fmt: skip
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(uri)  # must not block: the event loop's thread runs it
            except Exception:
                log.exception("a domain event listener failed")

    def _drop(self, uri: str) -> None:
        """A call missed its deadline: the connection is not trusted any more."""
        with self._lock:
            conn = self._conns.pop(uri, None)
        if conn is not None:
            self._close_in_background(conn)

    def _close_in_background(self, conn: libvirt.virConnect) -> None:
        # Closing a connection whose daemon is frozen can block too.
        threading.Thread(
            target=self._close_quietly, args=(conn,), name="libvirt-close", daemon=True
        ).start()

    def forget(self, uri: str) -> None:
        with self._lock:
            conn = self._conns.pop(uri, None)
        if conn is not None:
            self._close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        self._calls.close()
        for conn in conns:
            self._close_in_background(conn)

    @staticmethod
    def _close_quietly(conn: libvirt.virConnect) -> None:
        try:
            conn.close()
        except libvirt.libvirtError:
            log.debug("closing a broken libvirt connection failed", exc_info=True)


def _dest_definitions(dom: libvirt.virDomain, cpus: CpuPlacement) -> dict[str, object]:
    """A dedicated VM's definitions for its target (docs/hardware.md): its live
    XML (VIR_MIGRATE_PARAM_DEST_XML) and its persistent one (PERSIST_XML, else libvirt
    defines the source's on the target with PERSIST_DEST), pinned to the target's CPUs."""
    flags = libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_SECURE
    try:
        params: dict[str, object] = {
            libvirt.VIR_MIGRATE_PARAM_DEST_XML: repinned_xml(dom.XMLDesc(flags), cpus)
        }
        if dom.isPersistent():
            persistent = dom.XMLDesc(flags | libvirt.VIR_DOMAIN_XML_INACTIVE)
            params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] = repinned_xml(persistent, cpus)
    except ValueError as exc:
        raise HypervisorFailure(f"cannot pin the target's definition: {exc}") from exc
    return params
