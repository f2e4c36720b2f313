"""What a host looks like to a client: its figures, its foreign domains, and while it is
in maintenance, how the evacuation of its VMs goes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from vmpool.adapters.db.tables import HostRow, MigrationRow
from vmpool.domain.cpu_pinning import hugepages_free
from vmpool.domain.hardware import NumaCell
from vmpool.domain.migration import MigrationState
from vmpool.domain.model import split_list
from vmpool.domain.vm import VmState
from vmpool.services.placement_hosts import (
    NO_ALLOCATION,
    figures,
    host_traits,
    overrides_of,
    placement_host,
    policy_of,
)
from vmpool.services.preconditions import etag
from vmpool.services.unit_of_work import UnitOfWork
from vmpool.services.views import (
    Evacuation,
    EvacuationItem,
    ForeignDomainView,
    HostHugePagesView,
    HostView,
    HugePagesView,
    NumaCellView,
)

EVACUATION = "evacuation"  # the reason of the migrations maintenance asks for


def host_view(uow: UnitOfWork, row: HostRow) -> HostView:
    policy = policy_of(uow.pools.get(row.pool_id))
    allocation = uow.hosts.allocations(row.pool_id).get(row.id, NO_ALLOCATION)
    networks = uow.networks.names_on_host(row.id)
    snap = placement_host(row, policy, allocation, networks)
    claimed = uow.hosts.hugepages_use(row.pool_id).get(row.id, {})
    return HostView(
        id=row.id,
        pool_id=row.pool_id,
        name=row.name,
        uri=row.uri,
        state=row.state,
        host_uuid=row.host_uuid,
        hostname=row.hostname,
        arch=row.arch,
        cpus=row.cpus,
        memory_mib=row.memory_mib,
        disk_gib=row.disk_gib,
        domain_types=split_list(row.domain_types),
        traits=sorted(host_traits(row)),
        operator_traits=split_list(row.operator_traits),
        networks=sorted(networks),
        overrides=overrides_of(row),
        cpu_model=row.cpu_model,
        libvirt_version=row.libvirt_version,
        hypervisor_version=row.hypervisor_version,
        capacity=figures(snap.capacity),
        allocated=figures(snap.used),
        vm_count=allocation.vm_count,
        last_seen_at=row.last_seen_at,
        last_error=row.last_error,
        next_check_at=row.next_check_at,
        migration_address=row.migration_address,
        peer_uri=row.peer_uri,
        local_disk_path=row.local_disk_path,
        shared_disk_path=row.shared_disk_path,
        maintenance_since=row.maintenance_since,
        fenced_at=row.fenced_at,
        fenced_by=row.fenced_by,
        fence_command=json.loads(row.fence_command) if row.fence_command else None,
        evacuation=evacuation_of(uow, row.id) if row.maintenance_since is not None else None,
        foreign_domains=[
            ForeignDomainView(f.uuid, f.name, f.state, f.first_seen_at, f.last_seen_at)
            for f in row.foreign_domains
        ],
        created_at=row.created_at,
        etag=etag(row),
        cpu_dedicated_set=row.cpu_dedicated_set,
        cpu_shared_set=row.cpu_shared_set,
        pinned_cpus=sorted(uow.hosts.pinned_cpus(row.id)),
        numa_cells=[
            NumaCellView(
                c.id,
                sorted(c.cpus),
                c.memory_mib,
                [
                    HugePagesView(k, t, f, claimed.get((c.id, k), 0) * 1024 // k)
                    for k, (t, f) in sorted(c.hugepages.items())
                ],
            )
            for c in snap.hardware.cells
        ],
        hugepages=host_hugepages(snap.hardware.cells, claimed),
    )


def host_hugepages(
    cells: Sequence[NumaCell], claimed: Mapping[tuple[int, int], int]
) -> list[HostHugePagesView]:
    """Per page size, all cells: pages reported, claimed by vmpool's VMs, left for placement
    (`claimed`: MiB by (cell, page KiB), as HostRepository.hugepages_use gives it)."""
    out: list[HostHugePagesView] = []
    for kib in sorted({k for c in cells for k in c.hugepages}):
        total = sum(c.hugepages.get(kib, (0, 0))[0] for c in cells)
        if not total:
            continue
        free_mib, _ = hugepages_free(cells, claimed, kib)
        available = max(0, free_mib) * 1024 // kib
        out.append(HostHugePagesView(kib, total, total - available, available))
    return out


def evacuations(uow: UnitOfWork, host: HostRow) -> dict[int, MigrationRow]:
    """VM id -> the latest evacuation of it asked for since the host entered maintenance."""
    latest: dict[int, MigrationRow] = {}
    if host.maintenance_since is None:
        return latest
    for m in uow.migrations.page(host_id=host.id, since=host.maintenance_since, limit=10_000):
        if m.reason == EVACUATION and m.source_host_id == host.id:
            latest[m.vm_id] = m  # ordered by id: the last one wins
    return latest


def evacuation_of(uow: UnitOfWork, host_id: int) -> Evacuation | None:
    host = uow.hosts.get(host_id)
    if host.maintenance_since is None:
        return None
    latest = evacuations(uow, host)
    items: list[EvacuationItem] = []
    busy = False
    remaining = 0
    for vm in uow.vms.on_host(host_id):
        if vm.state not in (VmState.RUNNING.value, VmState.MIGRATING.value):
            why = f"the VM is {vm.state}: only running VMs are moved"
            items.append(EvacuationItem(vm.id, vm.name, "stays", None, None, why))
            continue
        remaining += 1
        last = latest.get(vm.id)
        if last is None:
            items.append(EvacuationItem(vm.id, vm.name, "pending", None, None, None))
            busy = True
            continue
        if not MigrationState(last.state).is_final:
            busy = True
        target = last.target_host_name
        items.append(EvacuationItem(vm.id, vm.name, last.state, last.id, target, last.error))
    for vm_id, m in latest.items():
        if m.state == MigrationState.COMPLETED.value:
            target = m.target_host_name
            items.append(EvacuationItem(vm_id, m.vm.name, m.state, m.id, target, None))
    status = "evacuating" if busy else ("done" if remaining == 0 else "incomplete")
    return Evacuation(status=status, vms_remaining=remaining, items=items)
