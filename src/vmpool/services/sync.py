"""Keep the database true to what the hosts run.

For each host due for a check: list its domains and correct the records.
A VM stopped outside vmpool shows as stopped; a domain vmpool did not define is
reported as foreign, never adopted; an unreachable host is marked so and
retried with exponential backoff. Stale intents (vmpool died between writing
an intent and its outcome) are settled from what the host reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vmpool.adapters.db.tables import ForeignDomainRow, HostRow, VmRow
from vmpool.domain.model import HostState, VmState
from vmpool.errors import HostUnreachable, VmpoolError
from vmpool.services.hosts import apply_inventory
from vmpool.services.ports import DomainInfo
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.vms import remove_domain_and_disk

log = logging.getLogger(__name__)

ACTOR = "sync"


@dataclass
class SyncReport:
    hosts_checked: int = 0
    hosts_unreachable: list[str] = field(default_factory=list)
    vms_corrected: list[str] = field(default_factory=list)
    vms_removed: list[str] = field(default_factory=list)
    foreign_found: list[str] = field(default_factory=list)


def backoff_seconds(failures: int, base_s: float, max_s: float) -> float:
    """Seconds to wait before trying a host that failed `failures` times in a row."""
    return float(min(max_s, base_s * 2 ** max(0, failures - 1)))


def sync_all(ctx: ServiceContext, base_interval_s: float, max_backoff_s: float) -> SyncReport:
    report = SyncReport()
    now = ctx.clock()
    with ctx.uow() as uow:
        due = [(h.id, h.uri) for h in uow.hosts.due_for_check(now)]
    for host_id, uri in due:
        try:
            sync_host(ctx, host_id, uri, base_interval_s, max_backoff_s, report)
        except VmpoolError:
            log.exception("sync of host %s failed", uri)
    return report


def sync_host(
    ctx: ServiceContext,
    host_id: int,
    uri: str,
    base_interval_s: float,
    max_backoff_s: float,
    report: SyncReport,
) -> None:
    report.hosts_checked += 1
    try:
        hv = ctx.hypervisors.connect(uri)
        domains = hv.list_domains()
        inventory = hv.inventory()
        with ctx.uow() as uow:
            known = uow.hosts.find(host_id)
            expected_uuid = known.host_uuid if known is not None else inventory.host_uuid
            folder = (known.local_disk_path if known else None) or ctx.default_local_disk_path
        disk_gib = hv.folder_capacity_gib(folder)
        if inventory.host_uuid != expected_uuid:
            # Another machine answers at this URI (a reinstall, a moved address): its
            # domains are not the ones recorded, so nothing is corrected from them.
            raise HostUnreachable(
                f"the host at {uri} now has host UUID {inventory.host_uuid}, "
                f"not {expected_uuid}: re-register it if it really is a new host",
                uri=uri,
            )
    except HostUnreachable as exc:
        _mark_unreachable(ctx, host_id, exc, base_interval_s, max_backoff_s)
        report.hosts_unreachable.append(uri)
        return

    pending_deletes: list[tuple[int, str, str | None]] = []
    with ctx.uow() as uow:
        host = uow.hosts.find(host_id)
        if host is None:
            return  # deleted meanwhile
        now = ctx.clock()
        if host.state == HostState.UNREACHABLE.value:
            host.state = HostState.UP.value
            uow.events.record(
                ACTOR, "host.reachable", f"host/{host.id}", after_failures=host.failures
            )
        host.failures = 0
        host.next_check_at = None
        host.last_error = None
        host.last_seen_at = now
        apply_inventory(host, inventory)
        host.disk_gib = disk_gib
        by_uuid = {d.uuid: d for d in domains}
        known_uuids: set[str] = set()
        for vm in uow.vms.on_host(host.id):
            known_uuids.add(vm.uuid)
            action = _reconcile_vm(uow, vm, by_uuid.get(vm.uuid), now, ctx.stale_intent_s, report)
            if action == "undefine":
                pending_deletes.append((vm.id, vm.uuid, vm.disk_path))
        _record_foreign(uow, host, domains, known_uuids, now, report)
        uow.commit()

    for vm_id, vm_uuid, disk_path in pending_deletes:
        _finish_delete(ctx, vm_id, vm_uuid, disk_path, uri, report)


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
        if host.state == HostState.UP.value:
            host.state = HostState.UNREACHABLE.value
            uow.events.record(ACTOR, "host.unreachable", f"host/{host.id}", error=exc.message)
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
    state = VmState(vm.state)
    if state is VmState.MIGRATING:
        return None  # the migration worker, or resolve_unowned, settles it
    if state is VmState.DELETING:
        # The domain must go; the record goes with it (after the host confirms).
        return "undefine"
    if dom is None:
        if state is VmState.CREATING and not _is_stale(vm, now, stale_s):
            return None  # being defined right now
        if state is VmState.CREATING:
            uow.vms.delete(vm)
            uow.events.record(ACTOR, "vm.create_abandoned", f"vm/{vm.id}", name=vm.name)
            report.vms_removed.append(vm.name)
            return None
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
    vm.state = state.value
    vm.state_changed_at = now
    if error is not None:
        vm.last_error = error
    report.vms_corrected.append(vm.name)


def _record_foreign(
    uow: UnitOfWork,
    host: HostRow,
    domains: list[DomainInfo],
    known: set[str],
    now: datetime,
    report: SyncReport,
) -> None:
    existing = {f.uuid: f for f in uow.foreign_domains.on_host(host.id)}
    seen: set[str] = set()
    for dom in domains:
        if dom.uuid in known:
            continue
        if dom.vmpool_vm_id is not None and uow.vms.find(dom.vmpool_vm_id) is not None:
            continue  # ours, recorded on another host (a migration in flight)
        seen.add(dom.uuid)
        row = existing.get(dom.uuid)
        if row is None:
            uow.foreign_domains.add(
                ForeignDomainRow(
                    host_id=host.id,
                    uuid=dom.uuid,
                    name=dom.name[:255],
                    state=dom.state,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            uow.events.record(
                ACTOR, "host.foreign_domain", f"host/{host.id}", uuid=dom.uuid, name=dom.name
            )
            report.foreign_found.append(dom.name)
        else:
            row.state = dom.state
            row.last_seen_at = now
    for uuid, row in existing.items():
        if uuid not in seen:
            uow.foreign_domains.delete(row)


def _finish_delete(
    ctx: ServiceContext,
    vm_id: int,
    vm_uuid: str,
    disk_path: str | None,
    uri: str,
    report: SyncReport,
) -> None:
    try:
        remove_domain_and_disk(ctx, uri, vm_uuid, disk_path)
    except VmpoolError as exc:
        log.warning("sync could not remove the domain of VM %s: %s", vm_id, exc.message)
        return
    with ctx.uow() as uow:
        vm = uow.vms.find(vm_id)
        if vm is None or vm.state != VmState.DELETING.value:
            return
        uow.vms.delete(vm)
        uow.events.record(ACTOR, "vm.deleted", f"vm/{vm_id}", name=vm.name)
        report.vms_removed.append(vm.name)
        uow.commit()
