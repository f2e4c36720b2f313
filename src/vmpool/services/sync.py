"""Keep the database true to what the hosts run.

For each host due for a check: list its domains and correct the records.
A VM stopped outside vmpool shows as stopped; a domain vmpool did not define is
reported as foreign, never adopted; an unreachable host is marked so and
retried with exponential backoff. Stale intents (vmpool died between writing
an intent and its outcome) are settled from what the host reports.

Hosts are synced concurrently and independently: each on a worker of its own, and a
host whose sync has not finished (a frozen host, until its calls miss their deadline)
is skipped by the next rounds, never waited for.

A host whose answer matches the database (the usual case: nothing changed) costs one
read, which takes no write lock, and its last_seen_at goes into a write shared with the
other such hosts; only a host with something to correct gets a write transaction of its own.
Host calls run on a bounded number of workers (`sync_workers`).

A read from a host never overwrites newer state: the time is taken before the host is
asked, and a VM whose state was written after that (an API call's intent or outcome) is
left alone in this round. A domain that looks foreign is confirmed with the host before
it is reported (it may belong to a VM deleted while the listing was read). Intents written
before this daemon started have no owner any more: they are settled at once, not after
`stale_intent_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from vmpool.adapters.db.host_devices import DeviceFacts, facts_of
from vmpool.adapters.db.tables import HostRow, VmRow
from vmpool.domain.host import HostState
from vmpool.domain.ports import DomainInfo, HostInventory, Hypervisor
from vmpool.domain.vm import VmState
from vmpool.errors import HostUnreachable, VmpoolError
from vmpool.services import foreign_domains, ha, host_networks
from vmpool.services.host_networks import NetworkEntry
from vmpool.services.hosts import apply_inventory, inventory_columns
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.vms import remove_domain_and_disks

log = logging.getLogger(__name__)

ACTOR = "sync"
# Hosts synced at once by default: their calls mostly wait on the network, so a few dozen
# overlap well; the bound keeps threads and connections in check (`sync_workers`).
DEFAULT_WORKERS = 32


@dataclass
class SyncReport:
    hosts_checked: int = 0
    hosts_unreachable: list[str] = field(default_factory=list)
    vms_corrected: list[str] = field(default_factory=list)
    vms_removed: list[str] = field(default_factory=list)
    foreign_found: list[str] = field(default_factory=list)

    def merge(self, other: SyncReport) -> None:
        self.hosts_checked += other.hosts_checked
        self.hosts_unreachable += other.hosts_unreachable
        self.vms_corrected += other.vms_corrected
        self.vms_removed += other.vms_removed
        self.foreign_found += other.foreign_found

    def log(self) -> None:
        if self.vms_corrected or self.vms_removed or self.foreign_found:
            log.info(
                "sync: corrected %s, removed %s, foreign %s",
                self.vms_corrected,
                self.vms_removed,
                self.foreign_found,
            )


def backoff_seconds(failures: int, base_s: float, max_s: float) -> float:
    """Seconds to wait before trying a host that failed `failures` times in a row."""
    return float(min(max_s, base_s * 2 ** max(0, failures - 1)))


def sync_all(
    ctx: ServiceContext,
    base_interval_s: float,
    max_backoff_s: float,
    owner_since: datetime | None = None,
    workers: int = DEFAULT_WORKERS,
) -> SyncReport:
    """Sync every host due for a check, at most `workers` at once, and wait for all."""
    start = time.perf_counter()
    try:
        return _sync_due(ctx, base_interval_s, max_backoff_s, owner_since, workers)
    finally:
        ctx.metrics.cycle_finished("sync", time.perf_counter() - start)


def _sync_due(
    ctx: ServiceContext,
    base_interval_s: float,
    max_backoff_s: float,
    owner_since: datetime | None,
    workers: int,
) -> SyncReport:
    report = SyncReport()
    with ctx.read_uow() as uow:
        due = uow.hosts.due_ids(ctx.clock())
    if not due:
        return report
    seen = SeenWriter(ctx)
    with ThreadPoolExecutor(max_workers=min(workers, len(due)), thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(_sync_one, ctx, h, u, base_interval_s, max_backoff_s, owner_since, seen)
            for h, u in due
        ]
        for f in futures:
            report.merge(f.result())
    try:
        seen.flush()  # left by a write that failed
    except VmpoolError:
        log.exception("sync could not record the hosts seen")
    return report


def _sync_one(
    ctx: ServiceContext,
    host_id: int,
    uri: str,
    base_interval_s: float,
    max_backoff_s: float,
    owner_since: datetime | None,
    seen: SeenWriter,
    domains_only: bool = False,
) -> SyncReport:
    report = SyncReport()
    start = time.perf_counter()
    try:
        sync_host(
            ctx,
            host_id,
            uri,
            base_interval_s,
            max_backoff_s,
            report,
            owner_since,
            domains_only,
            seen,
        )
    except VmpoolError:
        log.exception("sync of host %s failed", uri)
    ctx.metrics.cycle_finished("host_sync", time.perf_counter() - start)
    return report


class SeenWriter:
    """The hosts that answered with nothing to correct: their last_seen_at (and the seen_at
    of the networks they offer, and their new facts if any) are written together in one
    short transaction, by whichever worker finds none being written (a group commit), not
    in a transaction per host."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._pending: list[tuple[int, datetime, bool, dict[str, object] | None]] = []
        self._writing = False

    def add(
        self, host_id: int, at: datetime, networks: bool, facts: dict[str, object] | None = None
    ) -> None:
        """Record that the host answered `at` (`networks`: with every network it offers
        still offered; `facts`: host columns to set, `_HostFacts.columns`); written before
        this returns, or by the worker writing now."""
        with self._lock:
            self._pending.append((host_id, at, networks, facts))
            if self._writing:
                return
            self._writing = True
        self._drain()

    def flush(self) -> None:
        """Write what is pending, unless a worker is writing it now."""
        with self._lock:
            if self._writing or not self._pending:
                return
            self._writing = True
        self._drain()

    def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    batch, self._pending = self._pending, []
                    if not batch:
                        self._writing = False
                        return
                with self._ctx.uow() as uow:
                    uow.hosts.mark_seen([(h, at) for h, at, _, f in batch if f is None])
                    uow.hosts.record_facts([(h, at, f) for h, at, _, f in batch if f])
                    uow.networks.mark_seen_on_hosts([(h, at) for h, at, n, _ in batch if n])
                    uow.commit()
        except BaseException:
            with self._lock:
                self._writing = False
            raise


class HostSyncer:
    """The daemon's sync: each round starts the hosts that are due and not already being
    synced, each on a worker of its own, and returns without waiting for them.

    `on_first_round` is called once, when every host of the first round that could read
    the hosts due has been synced (at once if none was due): the daemon is ready then."""

    def __init__(
        self,
        ctx: ServiceContext,
        base_interval_s: float,
        max_backoff_s: float,
        owner_since: datetime,
        max_workers: int = DEFAULT_WORKERS,
        on_first_round: Callable[[], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._args = (base_interval_s, max_backoff_s, owner_since)
        self._seen = SeenWriter(ctx)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sync")
        self._busy: set[int] = set()
        self._again: set[int] = set()  # changed while being synced: once more after
        self._lock = threading.Lock()
        self._closed = False
        self._on_first_round = on_first_round
        self._first_pending: set[int] | None = None  # the first round's hosts still syncing

    def round(self) -> list[int]:
        """Start the due hosts; the ids started."""
        with self._ctx.read_uow() as uow:
            due = uow.hosts.due_ids(self._ctx.clock())
        started: list[tuple[int, str]] = []
        with self._lock:
            for host_id, uri in due:
                if host_id in self._busy:
                    continue  # still at it (a slow or frozen host): not waited for
                self._busy.add(host_id)
                started.append((host_id, uri))
            first = self._first_pending is None
            if first:
                self._first_pending = {host_id for host_id, _ in started}
        for host_id, uri in started:
            self._pool.submit(self._run, host_id, uri)
        if first and not started:
            self._first_round_done()
        return [host_id for host_id, _ in started]

    def _first_round_done(self) -> None:
        with self._lock:
            done, self._on_first_round = self._on_first_round, None
        if done is not None:
            try:
                done()
            except Exception:
                log.exception("the end of the first sync round could not be reported")

    def host_changed(self, uri: str) -> None:
        """A host says one of its domains changed state (a libvirt event): sync that host
        now, or once more right after the sync in progress. Returns at once (the caller
        is libvirt's event loop)."""
        with self._lock:
            if self._closed:
                return
        self._pool.submit(self._changed, uri)

    def _changed(self, uri: str) -> None:
        with self._ctx.read_uow() as uow:
            host = uow.hosts.by_uri(uri)
            if host is None:
                return
            host_id = host.id
        with self._lock:
            if host_id in self._busy:
                self._again.add(host_id)
                return
            self._busy.add(host_id)
        self._run(host_id, uri, domains_only=True)

    def _run(self, host_id: int, uri: str, domains_only: bool = False) -> None:
        try:
            _sync_one(self._ctx, host_id, uri, *self._args, self._seen, domains_only).log()
        finally:
            with self._lock:
                self._busy.discard(host_id)
                again = host_id in self._again and not self._closed
                self._again.discard(host_id)
                if again:
                    self._busy.add(host_id)
                pending = self._first_pending
                first = pending is not None and host_id in pending
                if pending is not None and first:
                    pending.discard(host_id)
                    first = not pending
            if first:
                self._first_round_done()
            if again:
                self._pool.submit(self._run, host_id, uri, True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def sync_host(
    ctx: ServiceContext,
    host_id: int,
    uri: str,
    base_interval_s: float,
    max_backoff_s: float,
    report: SyncReport,
    owner_since: datetime | None = None,
    domains_only: bool = False,
    seen: SeenWriter | None = None,
) -> None:
    """`owner_since`: when this daemon started; an intent written before has no owner.
    `domains_only`: just the domains (a host's event said one changed): its inventory,
    storage and networks wait for the periodic sync, so the change shows at once.
    `seen`: where a host with nothing to correct records that it answered (by default,
    written at once)."""
    report.hosts_checked += 1
    read_at = ctx.clock()  # anything written after this is newer than what the host says
    try:
        hv = ctx.hypervisors.connect(uri)
        known = _read_known(ctx, host_id, facts=not domains_only)
        if known.fenced:
            # Back after a fence: the copies of VMs restarted elsewhere go before anything else.
            report.vms_removed += ha.clear_stale_copies(ctx, hv, host_id)
        domains = hv.list_domains()
        facts = None if domains_only else _host_facts(ctx, hv, uri, known)
    except HostUnreachable as exc:
        _mark_unreachable(ctx, host_id, exc, base_interval_s, max_backoff_s)
        report.hosts_unreachable.append(uri)
        return
    vms_agree = _vms_agree(known, domains, read_at)
    if vms_agree and _host_agrees(known, facts):
        networks = facts is not None and facts.offered is not None
        columns = facts.columns() if facts is not None and not facts.recorded(known) else None
        (seen or SeenWriter(ctx)).add(host_id, ctx.clock(), networks, columns)
        return
    refresh = facts.record if facts is not None else None
    _apply_domains(
        ctx, host_id, uri, domains, read_at, report, owner_since, hv, refresh, not vms_agree
    )


@dataclass(frozen=True)
class _Known:
    """What the database says of a host, read (without a write lock) before it is asked.
    Anything written after this read is newer than `read_at`, which the corrections leave
    alone anyway: so if this read and the host's answer agree, there is nothing to correct."""

    host: Row[Any] | None  # `HostRepository.sync_snapshot`; None: deleted
    networks: list[NetworkEntry] = field(default_factory=list)  # the catalog
    offered: set[int] = field(default_factory=set)  # the networks recorded on the host
    vms: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # uuid: state, when
    has_foreign: bool = False
    devices: frozenset[DeviceFacts] = frozenset()  # its PCI devices, as recorded

    @property
    def fenced(self) -> bool:
        return self.host is not None and self.host.state == HostState.FENCED.value


def _read_known(ctx: ServiceContext, host_id: int, facts: bool) -> _Known:
    with ctx.read_uow() as uow:
        host = uow.hosts.sync_snapshot(host_id)
        if host is None:
            return _Known(None, host_networks.catalog(uow) if facts else [])
        return _Known(
            host,
            networks=host_networks.catalog(uow) if facts else [],
            offered=uow.networks.ids_on_host(host_id) if facts else set(),
            vms={v.uuid: (v.state, v.state_changed_at) for v in uow.vms.states_on_host(host_id)},
            has_foreign=bool(host.has_foreign),
            devices=uow.host_devices.present_facts(host_id) if facts else frozenset(),
        )


@dataclass(frozen=True)
class _HostFacts:
    """The host's inventory, storage and networks as it reports them now."""

    inventory: HostInventory
    disk_gib: int
    shared_gib: int | None
    offered: set[int] | None  # None: the host could not list them (what is recorded stays)

    def record(self, uow: UnitOfWork, host: HostRow, now: datetime) -> None:
        apply_inventory(host, self.inventory)
        host.disk_gib = self.disk_gib
        host.shared_disk_gib = self.shared_gib
        if self.offered is not None:
            uow.networks.set_on_host(host.id, self.offered, now)
        if self.inventory.pci_devices is not None:
            uow.host_devices.record(host.id, self.inventory.pci_devices, now)

    def columns(self) -> dict[str, object]:
        """The host row's columns these facts set (`HostRepository.record_facts`)."""
        columns = inventory_columns(self.inventory)
        columns.update(disk_gib=self.disk_gib, shared_disk_gib=self.shared_gib)
        return columns

    def recorded(self, known: _Known) -> bool:
        """Whether the database holds these facts already (the networks aside)."""
        h = known.host
        assert h is not None
        return all(getattr(h, c) == v for c, v in self.columns().items())

    def networks_recorded(self, known: _Known) -> bool:
        return self.offered is None or self.offered == known.offered

    def devices_recorded(self, known: _Known) -> bool:
        """Whether the host's PCI devices are recorded as it lists them (passthrough)."""
        devices = self.inventory.pci_devices
        return devices is None or frozenset(facts_of(d) for d in devices) == known.devices


def _host_facts(ctx: ServiceContext, hv: Hypervisor, uri: str, known: _Known) -> _HostFacts:
    """Read the host's inventory, storage and networks."""
    inventory = hv.inventory()
    h = known.host
    expected_uuid = h.host_uuid if h is not None else inventory.host_uuid
    folder = (h.local_disk_path if h is not None else None) or ctx.default_local_disk_path
    shared = h.shared_disk_path if h is not None else None
    disk_gib = hv.folder_capacity_gib(folder)  # its storage pool, refreshed
    shared_gib = _shared_capacity(hv, shared) if shared is not None else None
    offered = host_networks.offered_by(hv, known.networks)
    if inventory.host_uuid != expected_uuid:
        # Another machine answers at this URI (a reinstall, a moved address): its
        # domains are not the ones recorded, so nothing is corrected from them.
        raise HostUnreachable(
            f"the host at {uri} now has host UUID {inventory.host_uuid}, "
            f"not {expected_uuid}: re-register it if it really is a new host",
            uri=uri,
        )
    return _HostFacts(inventory, disk_gib, shared_gib, offered)


_QUIET_HOST_STATES = frozenset({HostState.UP.value, HostState.MAINTENANCE.value})


def _host_agrees(known: _Known, facts: _HostFacts | None) -> bool:
    """Whether `_apply_domains` would write nothing to the host row but its last_seen_at
    and facts (inventory, storage sizes), and nothing to its networks but their seen_at:
    reachable and recorded as such, offering the networks recorded."""
    h = known.host
    if h is None or h.state not in _QUIET_HOST_STATES:
        return False
    if h.failures or h.next_check_at is not None or h.last_error is not None:
        return False
    return facts is None or (facts.networks_recorded(known) and facts.devices_recorded(known))


def _vms_agree(known: _Known, domains: list[DomainInfo], read_at: datetime) -> bool:
    """Whether `_apply_domains` would change no VM and no foreign domain: none recorded or
    found, and every VM as the host reports it (or left alone by the rules of
    `_reconcile_vm`). When in doubt, False: `_apply_domains` looks at each VM."""
    if known.host is None or known.fenced or known.has_foreign:
        return False
    by_uuid = {d.uuid: d for d in domains}
    if len(by_uuid) != len(domains) or not by_uuid.keys() <= known.vms.keys():
        return False  # a domain no VM of this host claims: foreign, or moving here
    for uuid, (state, changed_at) in known.vms.items():
        if changed_at >= read_at or state == VmState.MIGRATING.value:
            continue  # left alone
        dom = by_uuid.get(uuid)
        if dom is None or dom.state != state or VmState(state).is_transitional:
            return False
    return True


def _apply_domains(
    ctx: ServiceContext,
    host_id: int,
    uri: str,
    domains: list[DomainInfo],
    read_at: datetime,
    report: SyncReport,
    owner_since: datetime | None,
    hv: Hypervisor,
    refresh: Callable[[UnitOfWork, HostRow, datetime], None] | None = None,
    vms: bool = True,
) -> None:
    """Correct the records of the host's VMs from what it reports (and `refresh` its
    inventory in the same transaction). `vms` False: the host's row only (its VMs and
    domains agree: see `_vms_agree`)."""
    pending_deletes: list[tuple[int, str, list[str]]] = []
    maybe_foreign: list[DomainInfo] = []
    with ctx.uow() as uow:
        host = uow.hosts.find(host_id)
        if host is None:
            return  # deleted meanwhile
        now = ctx.clock()
        if host.answer() or host.return_from_fence():
            uow.events.record(
                ACTOR, "host.reachable", f"host/{host.id}", after_failures=host.failures
            )
        host.failures = 0
        host.next_check_at = None
        host.last_error = None
        host.last_seen_at = now
        if refresh is not None:
            refresh(uow, host, now)
        if not vms:
            uow.commit()
            return
        by_uuid = {d.uuid: d for d in domains}
        known_uuids: set[str] = set()
        for vm in uow.vms.on_host(host.id):
            known_uuids.add(vm.uuid)
            if vm.state_changed_at >= read_at:
                continue  # written after the host was read: the read may be older
            # A shutdown is finished by the guest, not by the process that asked for it.
            orphaned = (
                owner_since is not None
                and vm.state_changed_at < owner_since
                and vm.vm_state is not VmState.SHUTTING_DOWN
            )
            stale_s = 0.0 if orphaned else ctx.stale_intent_s
            action = _reconcile_vm(uow, vm, by_uuid.get(vm.uuid), now, stale_s, report)
            if action == "undefine":
                pending_deletes.append((vm.id, vm.uuid, uow.vms.volumes(vm)))
        maybe_foreign = foreign_domains.record(uow, host.id, domains, known_uuids, now)
        uow.commit()

    if maybe_foreign:
        report.foreign_found += foreign_domains.confirm(ctx, hv, host_id, maybe_foreign, ACTOR)
    for vm_id, vm_uuid, volumes in pending_deletes:
        _finish_delete(ctx, vm_id, vm_uuid, volumes, uri, report)


def _shared_capacity(hv: Hypervisor, folder: str) -> int | None:
    """The size of the shared folder's file system, through its storage pool (defined if
    missing, refreshed, so a volume another host made there is known here too). A folder
    libvirt cannot use is logged and has no size: the host's sync goes on."""
    try:
        return hv.folder_capacity_gib(folder)
    except HostUnreachable:
        raise
    except VmpoolError as exc:
        log.warning("the shared folder %s is not usable on %s: %s", folder, hv.uri, exc.message)
        return None


def _mark_unreachable(
    ctx: ServiceContext,
    host_id: int,
    exc: HostUnreachable,
    base_interval_s: float,
    max_backoff_s: float,
) -> None:
    with ctx.uow() as uow:
        host = uow.hosts.find(host_id)
        if host is None:
            return
        host.failures += 1
        delay = backoff_seconds(host.failures, base_interval_s, max_backoff_s)
        host.next_check_at = ctx.clock() + timedelta(seconds=delay)
        host.last_error = exc.message
        if host.lose_contact():
            uow.events.record(ACTOR, "host.unreachable", f"host/{host.id}", error=exc.message)
            now = ctx.clock()
            for vm in uow.vms.on_host(host.id):
                if vm.steady:  # not "stopped": it may well run on; the next answer says
                    vm.lose_host(now, f"host {host.name} does not answer: {exc.message}")
        uow.commit()


def _is_stale(vm: VmRow, now: datetime, stale_s: float) -> bool:
    return (now - vm.state_changed_at).total_seconds() >= stale_s


def _reconcile_vm(
    uow: UnitOfWork,
    vm: VmRow,
    dom: DomainInfo | None,
    now: datetime,
    stale_s: float,
    report: SyncReport,
) -> str | None:
    state = vm.vm_state
    if state is VmState.MIGRATING:
        return None  # the migration worker, or resolve_unowned, settles it
    if state is VmState.DELETING:
        # The domain must go; the record goes with it (after the host confirms).
        return "undefine"
    if dom is None:
        if state is VmState.CREATING and not _is_stale(vm, now, stale_s):
            return None  # being defined right now
        if state is VmState.CREATING:
            # Its disk may exist already: removed like a delete, then the record goes.
            vm.abandon_create(now)
            uow.events.record(ACTOR, "vm.create_abandoned", f"vm/{vm.id}", name=vm.name)
            return "undefine"
        if state is not VmState.ERROR:
            _set_state(uow, vm, VmState.ERROR, now, "the domain is missing on its host", report)
        return None
    observed = VmState(dom.state)
    if state is VmState.SHUTTING_DOWN:
        if observed is VmState.STOPPED:
            _set_state(uow, vm, observed, now, None, report)
        elif _is_stale(vm, now, stale_s):
            _set_state(
                uow, vm, observed, now, "the guest did not act on the shutdown request", report
            )
        return None
    if state.is_transitional and not _is_stale(vm, now, stale_s):
        return None  # a service is between intent and outcome
    if observed is not state:
        _set_state(uow, vm, observed, now, None, report)
    return None


def _set_state(
    uow: UnitOfWork,
    vm: VmRow,
    state: VmState,
    now: datetime,
    error: str | None,
    report: SyncReport,
) -> None:
    uow.events.record(
        ACTOR, "vm.state_corrected", f"vm/{vm.id}", name=vm.name, was=vm.state, now=state.value
    )
    vm.observe(state, now, error)
    report.vms_corrected.append(vm.name)


def _finish_delete(
    ctx: ServiceContext,
    vm_id: int,
    vm_uuid: str,
    volumes: list[str],
    uri: str,
    report: SyncReport,
) -> None:
    try:
        remove_domain_and_disks(ctx, uri, vm_uuid, volumes)
    except VmpoolError as exc:
        log.warning("sync could not remove the domain of VM %s: %s", vm_id, exc.message)
        return
    with ctx.uow() as uow:
        vm = uow.vms.same(vm_id, vm_uuid)
        if vm is None or vm.state != VmState.DELETING.value:
            return
        uow.vms.delete(vm)
        uow.events.record(ACTOR, "vm.deleted", f"vm/{vm_id}", name=vm.name)
        report.vms_removed.append(vm.name)
        uow.commit()
