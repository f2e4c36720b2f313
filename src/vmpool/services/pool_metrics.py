"""The figures that describe the model, for `/metrics`: read from the database at scrape
time in one read-only unit of work (plus the pool scores), so every replica reports the same
truth and nothing kept in memory can drift from it."""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.domain.host import HostState
from vmpool.errors import NotFound
from vmpool.services import plan_views
from vmpool.services.placement_hosts import figures, host_readings
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import ResourceFigures


@dataclass(frozen=True)
class HostFigures:
    name: str
    pool: str
    state: str
    capacity: ResourceFigures  # after the pool's ratios and reservations
    allocated: ResourceFigures  # as placement counts it (the API's `allocated`)
    vm_count: int
    cpu_load: float | None  # smoothed measured CPU utilisation (0-1); None: not sampled


@dataclass(frozen=True)
class PoolFigures:
    hosts: list[HostFigures]
    hosts_by_state: dict[str, int]  # every host state, 0 included
    vms: dict[tuple[str, str], int]  # (project, state) -> VMs
    migrations: dict[str, int]  # state -> migrations ever recorded
    plans: dict[tuple[str, str], int]  # (pool, state) -> plans
    scores: dict[str, float]  # pool -> score (lower is better)


def pool_figures(ctx: ServiceContext) -> PoolFigures:
    with ctx.read_uow() as uow:
        pool_rows = uow.pools.list()
        pools = {p.id: p.name for p in pool_rows}
        hosts: list[HostFigures] = []
        by_state = {state.value: 0 for state in HostState}
        for pool, row, alloc, snap, load in host_readings(uow, pool_rows):
            by_state[row.state] = by_state.get(row.state, 0) + 1
            hosts.append(
                HostFigures(
                    row.name, pool.name, row.state, figures(snap.capacity),
                    figures(snap.used), alloc.vm_count,
                    load.cpu_usage_avg if load is not None else None,
                )
            )  # fmt: skip
        vms = uow.vms.count_by_project_state()
        migrations = uow.migrations.count_by_state()
        plans = {
            (pools[pool_id], state): n
            for (pool_id, state), n in uow.plans.count_by_pool_state().items()
            if pool_id in pools
        }
    scores: dict[str, float] = {}
    for pool_id, name in pools.items():
        try:
            scores[name] = plan_views.pool_score(ctx, pool_id).score
        except NotFound:
            continue  # deleted since it was read
    return PoolFigures(hosts, by_state, vms, migrations, plans, scores)
