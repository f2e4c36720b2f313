"""A pool as the rebalance planner sees it: a `ClusterState` built from the database.

The same cluster state serves the scheduling loop, the pool score in the API and
`vmpool export-pool` (which writes it in the offline format, docs/rebalance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vmpool.adapters.db.tables import PoolRow
from vmpool.domain.cluster_state import (
    ClusterHost,
    ClusterHostState,
    ClusterPolicy,
    ClusterState,
    ClusterVm,
    GroupSpec,
    Strategy,
    with_report,
)
from vmpool.domain.cpu_pinning import ordinary_memory_claim_mib, ordinary_memory_mib
from vmpool.domain.hardware import hardware_from_json
from vmpool.domain.host import HostState
from vmpool.domain.migration import ACTIVE_MIGRATION_STATES
from vmpool.domain.model import GroupPolicy
from vmpool.domain.placement import meets_requirements
from vmpool.domain.vm import VmState
from vmpool.services.placement_hosts import NO_ALLOCATION, overrides_of, placement_host, policy_of
from vmpool.services.unit_of_work import UnitOfWork

MIB = 1024 * 1024

_HOST_STATE = {
    HostState.UP.value: ClusterHostState.UP,
    HostState.MAINTENANCE.value: ClusterHostState.MAINTENANCE,
    HostState.UNREACHABLE.value: ClusterHostState.DOWN,
    HostState.FENCED.value: ClusterHostState.DOWN,
}


@dataclass(frozen=True)
class PoolState:
    cluster: ClusterState
    vm_ids: dict[str, int]  # VM name -> id
    host_ids: dict[str, int]  # host name -> id
    recently_moved: frozenset[str]  # VM names within the pool's cool-down


def build(uow: UnitOfWork, pool: PoolRow, now: datetime) -> PoolState:
    """Hosts and placed VMs of `pool`. A VM counts at its measured CPU use (the smoothed
    average) when sampled, else as fully busy; only a running VM that is not already
    migrating may move; a stopped VM still holds its allocation but burns no CPU. A VM's
    dirty rate is the one its latest live migration measured, if any."""
    hosts = uow.hosts.list(pool_id=pool.id)
    host_names = {h.id: h.name for h in hosts}
    vms = [
        v
        for v in uow.vms.page(pool_id=pool.id, limit=10_000_000)
        if v.host_id is not None and v.host_id in host_names
    ]
    load = uow.load.all_of("vm", (v.id for v in vms))
    # What the VM's latest live migration measured: the planner prefers quiet VMs.
    dirty = uow.migrations.last_dirty_rates(pool.id)
    groups = {g.id: g for g in uow.groups.list(pool_id=pool.id)}
    data_gib = uow.disks.local_gib_by_vm(pool.id)  # local data disks: they move with the VM
    active = [st.value for st in ACTIVE_MIGRATION_STATES]
    moving = {m.vm_id for m in uow.migrations.in_states(active) if m.pool_id == pool.id}
    # A VM with snapshots in disks local to its host cannot be copied with them
    # (domain/snapshot.py snapshot_migration_blocker): the planner leaves it where it is.
    with_snapshots = uow.snapshots.vms_with_snapshots(pool.id)
    pinned = {
        v.id for v in vms
        if v.id in with_snapshots
        and ((v.disk_path and v.disk_storage != "shared") or data_gib.get(v.id, 0))
    }  # fmt: skip
    # Nor one its special hardware keeps where it is (Vm.planner_leaves_it).
    pinned |= {v.id for v in vms if v.planner_leaves_it()}
    since = now - timedelta(seconds=pool.rebalance_cooldown_s)
    moved = uow.migrations.vms_moved_since(pool.id, since) if pool.rebalance_cooldown_s else set()
    # Where each VM may run at all (its placement requirements), as placement decides it.
    offered = uow.networks.names_on_hosts(pool.id)
    capable = [
        placement_host(h, policy_of(pool), NO_ALLOCATION, offered.get(h.id, frozenset()))
        for h in hosts
    ]
    nic_networks = uow.nics.network_names_by_vm(pool.id)
    all_hosts = frozenset(h.name for h in hosts)
    snap_vms: list[ClusterVm] = []
    for v in vms:
        needs = v.placement_requirements(
            local_data_gib=data_gib.get(v.id, 0), networks=nic_networks.get(v.id, frozenset())
        )
        runs_on = frozenset(h.name for h in capable if meets_requirements(h, needs))
        running = v.state == VmState.RUNNING.value
        row = load.get(v.id)
        usage = row.cpu_usage_avg if row is not None else None
        group = groups.get(v.placement_group_id) if v.placement_group_id is not None else None
        snap_vms.append(
            ClusterVm(
                name=v.name,
                host=host_names[v.host_id],  # type: ignore[index]  # filtered above
                vcpus=v.vcpus,
                # a huge-page VM's memory is its pages, not the host's ordinary memory
                memory_mib=float(ordinary_memory_claim_mib(v.memory_mib, v.hugepages)),
                disk_gib=float(needs.disk_gib),
                cpu_usage=usage if running else 0.0,
                migratable=v.migratable and running and v.id not in moving | pinned,
                group=group.name if group is not None else None,
                guaranteed=v.guaranteed,
                dirty_rate=dirty[v.id] / MIB if v.id in dirty else None,
                hosts=None if runs_on == all_hosts else runs_on,
            )
        )
    cluster = ClusterState(
        hosts=tuple(
            ClusterHost(
                name=h.name,
                vcpus=h.cpus,
                # less the memory its huge pages hold, as placement counts it
                memory_mib=ordinary_memory_mib(h.memory_mib, hardware_from_json(h.hardware).cells),
                disk_gib=float(h.disk_gib),
                state=_HOST_STATE[h.state],
                overrides=overrides_of(h),
            )
            for h in hosts
        ),
        vms=tuple(snap_vms),
        policy=ClusterPolicy(
            allocation=policy_of(pool),
            strategy=Strategy(pool.rebalance_strategy),
            max_migrations=pool.rebalance_max_moves,
            min_gain=pool.rebalance_min_gain,
            max_memory_mib=float(pool.rebalance_max_memory_mib) or None,
        ),
        groups={
            g.name: GroupSpec(name=g.name, policy=GroupPolicy(g.policy), hard=g.hard)
            for g in groups.values()
        },
    )
    return PoolState(
        cluster=with_report(cluster),
        vm_ids={v.name: v.id for v in vms},
        host_ids={h.name: h.id for h in hosts},
        recently_moved=frozenset(v.name for v in vms if v.id in moved),
    )
