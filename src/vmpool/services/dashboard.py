"""The dashboard's one read (`/ui`): the pool's utilisation per host, the VMs on each host,
the migrations in flight, the latest plans and the hosts that need an operator, put together
from the same figures as the API's hosts, VMs, migrations, plans and pool score routes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from vmpool.domain.host import HostState
from vmpool.domain.migration import ACTIVE_MIGRATION_STATES
from vmpool.errors import NotFound
from vmpool.services import plan_views
from vmpool.services.host_views import evacuation_of
from vmpool.services.migrations import MigrationView, migration_view
from vmpool.services.placement_hosts import figures, host_readings
from vmpool.services.plan_views import PlanView, plan_view
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import Evacuation, ResourceFigures

MAX_VMS = 10_000  # VMs read at most (the page says when there are more)
PLANS_PER_POOL = 5


@dataclass(frozen=True)
class VmBrief:
    id: int
    name: str
    state: str
    host_id: int | None
    vcpus: int
    memory_mib: int
    disk_gib: int


@dataclass(frozen=True)
class HostPanel:
    id: int
    name: str
    pool: str
    state: str
    capacity: ResourceFigures  # as GET /v1/hosts/{id} gives it (after ratios, reservations)
    allocated: ResourceFigures
    cpu_load: float | None  # smoothed measured CPU utilisation (0-1); None: not sampled yet
    load_sampled_at: datetime | None
    vm_count: int  # the VMs its allocation counts (a migration's target counts its VM)
    vms: list[VmBrief]  # the VMs placed on it, by id
    last_seen_at: datetime | None
    last_error: str | None
    maintenance_since: datetime | None
    fenced_at: datetime | None
    evacuation: Evacuation | None  # while in maintenance

    @property
    def attention(self) -> bool:
        """In maintenance, unreachable or fenced: an operator's business."""
        return self.state != HostState.UP.value


@dataclass(frozen=True)
class PoolPanel:
    id: int
    name: str
    strategy: str
    score: float | None  # the pool score now (lower is better); None: the pool just went
    plans: list[PlanView]  # the latest, newest first


@dataclass(frozen=True)
class Dashboard:
    taken_at: datetime
    with_hosts: bool  # False: a project's view (no hosts, pools or plans; no host names)
    hosts: list[HostPanel]
    hosts_by_state: dict[str, int]
    vms: list[VmBrief]  # every VM read (at most MAX_VMS), by id
    vms_truncated: bool
    vms_by_state: dict[str, int]
    migrations: list[MigrationView]  # in flight, oldest first
    pools: list[PoolPanel]

    @property
    def unplaced(self) -> list[VmBrief]:
        """VMs on no host (an admin's view; a project's never names hosts)."""
        if not self.with_hosts:
            return []
        return [v for v in self.vms if v.host_id is None]


def dashboard(ctx: ServiceContext, *, with_hosts: bool) -> Dashboard:
    """Everything the dashboard shows, read in one read-only unit of work (the pool scores
    after it, as `/metrics` reads them). A project's context sees its own VMs and their
    migrations; `with_hosts` False leaves out the hosts, the pools and their plans, and
    where migrations run (as the API hides them from a project's token)."""
    now = ctx.clock()
    with ctx.read_uow() as uow:
        briefs = [VmBrief(*row) for row in uow.vms.briefs(MAX_VMS + 1)]
        truncated = len(briefs) > MAX_VMS
        briefs = briefs[:MAX_VMS]
        by_state: dict[str, int] = {}
        for (_project, state), n in uow.vms.count_by_project_state().items():
            by_state[state] = by_state.get(state, 0) + n
        flying = sorted(
            (
                migration_view(m)
                for state in ACTIVE_MIGRATION_STATES
                for m in uow.migrations.page(state=state.value, limit=1000)
            ),
            key=lambda m: m.id,
        )
        hosts: list[HostPanel] = []
        pools: list[tuple[int, str, list[PlanView]]] = []
        hosts_by_state = {s.value: 0 for s in HostState}
        if with_hosts:
            on_host: dict[int, list[VmBrief]] = {}
            for b in briefs:
                if b.host_id is not None:
                    on_host.setdefault(b.host_id, []).append(b)
            pool_rows = uow.pools.list()
            for pool, row, alloc, snap, load in host_readings(uow, pool_rows):
                hosts_by_state[row.state] = hosts_by_state.get(row.state, 0) + 1
                hosts.append(
                    HostPanel(
                        id=row.id,
                        name=row.name,
                        pool=pool.name,
                        state=row.state,
                        capacity=figures(snap.capacity),
                        allocated=figures(snap.used),
                        vm_count=alloc.vm_count,
                        cpu_load=load.cpu_usage_avg if load is not None else None,
                        load_sampled_at=load.sampled_at if load is not None else None,
                        vms=on_host.get(row.id, []),
                        last_seen_at=row.last_seen_at,
                        last_error=row.last_error,
                        maintenance_since=row.maintenance_since,
                        fenced_at=row.fenced_at,
                        evacuation=evacuation_of(uow, row.id)
                        if row.maintenance_since is not None
                        else None,
                    )
                )
            for pool in pool_rows:
                plans = [plan_view(p) for p in uow.plans.page(pool.id, limit=PLANS_PER_POOL)]
                pools.append((pool.id, pool.name, plans))
    if not with_hosts:
        briefs = [replace(b, host_id=None) for b in briefs]
        flying = [_without_hosts(m) for m in flying]
    pool_panels: list[PoolPanel] = []
    for pool_id, name, plans in pools:
        try:
            score = plan_views.pool_score(ctx, pool_id)
            pool_panels.append(PoolPanel(pool_id, name, score.strategy, score.score, plans))
        except NotFound:
            continue  # deleted since it was read
    return Dashboard(
        taken_at=now,
        with_hosts=with_hosts,
        hosts=hosts,
        hosts_by_state=hosts_by_state if with_hosts else {},
        vms=briefs,
        vms_truncated=truncated,
        vms_by_state=dict(sorted(by_state.items())),
        migrations=flying,
        pools=pool_panels,
    )


def _without_hosts(m: MigrationView) -> MigrationView:
    return replace(m, source_host_id=None, source_host="", target_host_id=None, target_host=None)
