"""The figures that describe the model, for `/metrics`: read from the database at scrape
time in one read-only unit of work (plus the pool scores), so every replica reports the same
truth and nothing kept in memory can drift from it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from vmpool.adapters.db.tables import (
    LoadRow,
    MigrationRow,
    PlanRow,
    PoolRow,
    ProjectRow,
    VmRow,
)
from vmpool.domain.host import HostState
from vmpool.errors import NotFound
from vmpool.services import plan_views
from vmpool.services.placement_hosts import NO_ALLOCATION, figures, placement_host, policy_of
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
        s = uow.session
        pools = {p.id: p for p in s.scalars(select(PoolRow))}
        loads = {
            subject: avg
            for subject, avg in s.execute(
                select(LoadRow.subject_id, LoadRow.cpu_usage_avg).where(LoadRow.kind == "host")
            )
        }
        hosts: list[HostFigures] = []
        by_state = {state.value: 0 for state in HostState}
        for pool in pools.values():
            policy = policy_of(pool)
            allocations = uow.hosts.allocations(pool.id)
            for row in uow.hosts.list(pool_id=pool.id):
                alloc = allocations.get(row.id, NO_ALLOCATION)
                snap = placement_host(row, policy, alloc)
                by_state[row.state] = by_state.get(row.state, 0) + 1
                hosts.append(
                    HostFigures(
                        row.name, pool.name, row.state, figures(snap.capacity),
                        figures(snap.used), alloc.vm_count, loads.get(row.id),
                    )
                )  # fmt: skip
        vms = {
            (project, state): n
            for project, state, n in s.execute(
                select(ProjectRow.name, VmRow.state, func.count())
                .join(ProjectRow, ProjectRow.id == VmRow.project_id)
                .group_by(ProjectRow.name, VmRow.state)
            )
        }
        migrations = {
            state: n
            for state, n in s.execute(
                select(MigrationRow.state, func.count()).group_by(MigrationRow.state)
            )
        }
        plans = {
            (pools[pool_id].name, state): n
            for pool_id, state, n in s.execute(
                select(PlanRow.pool_id, PlanRow.state, func.count()).group_by(
                    PlanRow.pool_id, PlanRow.state
                )
            )
        }
        pool_names = {p.id: p.name for p in pools.values()}
    scores: dict[str, float] = {}
    for pool_id, name in pool_names.items():
        try:
            scores[name] = plan_views.pool_score(ctx, pool_id).score
        except NotFound:
            continue  # deleted since it was read

    return PoolFigures(hosts, by_state, vms, migrations, plans, scores)
