"""Rebalance plans and the pool score as a client reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vmpool.adapters.db.tables import PlanRow, PlanStepRow
from vmpool.domain.cluster_state import Strategy
from vmpool.domain.plan import PlanState
from vmpool.domain.rebalance import HostFigures, ScoreComponents, host_figures
from vmpool.domain.rebalance import score as score_of
from vmpool.errors import InvalidInput
from vmpool.services import cluster_state
from vmpool.services.unit_of_work import ServiceContext


@dataclass(frozen=True)
class PlanStepView:
    seq: int
    vm_id: int | None
    vm_name: str
    source_host: str
    target_host: str
    score_before: float
    score_after: float
    memory_mib: float
    reason: str
    state: str
    migration_id: int | None
    detail: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PlanView:
    id: int | None  # None for a dry run, which is not stored
    pool_id: int
    state: str
    origin: str
    actor: str
    strategy: str
    min_gain: float
    score_before: float
    score_after: float
    score_final: float | None
    components_before: dict[str, float]
    components_after: dict[str, float]
    empty_hosts: list[str]
    emptied_hosts: list[str]
    stopped_because: str
    note: str | None
    planning_ms: float | None
    disk_gib_moved: float  # local disks the moves copy, at most
    steps: list[PlanStepView]
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PoolScoreView:
    pool_id: int
    strategy: str
    score: float
    components: dict[str, float]
    hosts: list[HostFigures]
    empty_hosts: list[str]
    warnings: list[str]


def _step_view(s: PlanStepRow) -> PlanStepView:
    return PlanStepView(
        seq=s.seq,
        vm_id=s.vm_id,
        vm_name=s.vm_name,
        source_host=s.source_host,
        target_host=s.target_host,
        score_before=s.score_before,
        score_after=s.score_after,
        memory_mib=s.memory_mib,
        reason=s.reason,
        state=s.state,
        migration_id=s.migration_id,
        detail=s.detail,
        started_at=s.started_at,
        finished_at=s.finished_at,
    )


def plan_view(p: PlanRow) -> PlanView:
    empty = p.empty_hosts or {}
    return PlanView(
        id=p.id,
        pool_id=p.pool_id,
        state=p.state,
        origin=p.origin,
        actor=p.actor,
        strategy=p.strategy,
        min_gain=p.min_gain,
        score_before=p.score_before,
        score_after=p.score_after,
        score_final=p.score_final,
        components_before=dict(p.components_before),
        components_after=dict(p.components_after),
        empty_hosts=list(empty.get("after", [])),
        emptied_hosts=list(empty.get("emptied", [])),
        stopped_because=p.stopped_because,
        note=p.note,
        planning_ms=empty.get("planning_ms"),
        disk_gib_moved=float(empty.get("disk_gib_moved", 0.0)),
        steps=[_step_view(s) for s in p.steps],
        created_at=p.created_at,
        approved_at=p.approved_at,
        approved_by=p.approved_by,
        finished_at=p.finished_at,
    )


def list_plans(
    ctx: ServiceContext,
    pool_id: int,
    state: str | None = None,
    limit: int = 20,
    before_id: int | None = None,
) -> list[PlanView]:
    if state is not None and state not in {s.value for s in PlanState}:
        allowed = ", ".join(s.value for s in PlanState)
        raise InvalidInput(f"unknown plan state {state!r} (expected one of {allowed})")
    with ctx.uow() as uow:
        uow.pools.get(pool_id)
        return [plan_view(p) for p in uow.plans.page(pool_id, state, limit, before_id)]


def get_plan(ctx: ServiceContext, plan_id: int) -> PlanView:
    with ctx.uow() as uow:
        return plan_view(uow.plans.get(plan_id))


def pool_score(ctx: ServiceContext, pool_id: int) -> PoolScoreView:
    """The pool score as the loop sees it now (lower is better) and its components (read
    only: the dashboard and /metrics read it often)."""
    with ctx.read_uow() as uow:
        pool = uow.pools.get(pool_id)
        snap = cluster_state.build(uow, pool, ctx.clock()).cluster
        strategy = Strategy(pool.rebalance_strategy)
    components: ScoreComponents = score_of(snap)
    figures = host_figures(snap)
    return PoolScoreView(
        pool_id=pool_id,
        strategy=strategy.value,
        score=components.total(strategy),
        components=components.as_dict(),
        hosts=figures,
        empty_hosts=[f.name for f in figures if f.up and f.vms == 0],
        warnings=list(snap.warnings),
    )
