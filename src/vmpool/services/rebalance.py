"""The scheduling loop's use cases: plan, store, approve, cancel and run rebalance plans.

A cycle (one per pool, at the pool's interval) plans from a fresh snapshot; an improving
plan must show up in `rebalance_hysteresis_cycles` consecutive cycles before it is
stored, VMs moved within the cool-down are left alone, and nothing is planned while a
plan runs or any migration of the pool is in flight. A stored plan runs one step at a
time through the ordinary migration queue; before each step the move is checked again
against the pool as it is now, and skipped (with the reason) when it is no longer valid
or no longer gains enough.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from vmpool.adapters.db.tables import PlanRow, PlanStepRow, PoolRow
from vmpool.domain.cluster_state import Strategy
from vmpool.domain.migration import MigrationState
from vmpool.domain.model import RebalanceMode
from vmpool.domain.plan import PlanState, PlanStepState
from vmpool.domain.rebalance import (
    HostFigures,
    Hysteresis,
    Plan,
    PlannerConfig,
    ScoreComponents,
    apply_moves,
    check_move,
    host_figures,
    plan,
)
from vmpool.domain.rebalance import score as score_of
from vmpool.errors import InvalidInput, InvalidState, VmpoolError
from vmpool.services import cluster_state, migrations
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)

REBALANCE = "rebalance"
_ACTIVE_PLAN = [PlanState.RUNNING.value]


# --- views -----------------------------------------------------------------------------


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
        steps=[_step_view(s) for s in p.steps],
        created_at=p.created_at,
        approved_at=p.approved_at,
        approved_by=p.approved_by,
        finished_at=p.finished_at,
    )


# --- planning --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRequest:
    strategy: Strategy | None = None
    max_moves: int | None = None
    min_gain: float | None = None
    max_memory_mib: int | None = None  # 0: no memory budget; None: the pool's


def _make_plan(
    uow: UnitOfWork, pool: PoolRow, now: datetime, request: PlanRequest
) -> tuple[cluster_state.PoolState, Plan, float]:
    snap = cluster_state.build(uow, pool, now)
    config = PlannerConfig(
        strategy=request.strategy or Strategy(pool.rebalance_strategy),
        max_moves=pool.rebalance_max_moves if request.max_moves is None else request.max_moves,
        min_gain=pool.rebalance_min_gain if request.min_gain is None else request.min_gain,
        max_memory_mib=float(
            pool.rebalance_max_memory_mib
            if request.max_memory_mib is None
            else request.max_memory_mib
        )
        or None,
    )
    started = time.perf_counter()
    result = plan(snap.cluster, config, snap.recently_moved)
    return snap, result, (time.perf_counter() - started) * 1000


def _store(
    uow: UnitOfWork,
    pool: PoolRow,
    snap: cluster_state.PoolState,
    result: Plan,
    planning_ms: float,
    *,
    state: PlanState,
    origin: str,
    actor: str,
    min_gain: float,
    now: datetime,
) -> PlanRow:
    # One proposal at a time: a newer one replaces those still waiting for approval.
    for old in uow.plans.in_states(pool.id, [PlanState.PROPOSED.value]):
        old.state = PlanState.SUPERSEDED.value
        old.finished_at = now
    row = _plan_row(
        pool, snap, result, planning_ms,
        state=state, origin=origin, actor=actor, min_gain=min_gain, now=now,
    )  # fmt: skip
    uow.plans.add(row)
    uow.events.record(
        actor, "plan.created", f"plan/{row.id}",
        pool=pool.name, state=row.state, moves=len(result.moves),
        score_before=result.score_before, score_after=result.score_after,
    )  # fmt: skip
    return row


def _plan_row(
    pool: PoolRow,
    snap: cluster_state.PoolState,
    result: Plan,
    planning_ms: float,
    *,
    state: PlanState,
    origin: str,
    actor: str,
    min_gain: float,
    now: datetime,
) -> PlanRow:
    """The plan as a row with its steps, not yet in any session."""
    row = PlanRow(
        pool_id=pool.id,
        state=state.value,
        origin=origin,
        actor=actor,
        strategy=result.strategy.value,
        min_gain=min_gain,
        score_before=result.score_before,
        score_after=result.score_after,
        components_before=result.components_before.as_dict(),
        components_after=result.components_after.as_dict(),
        empty_hosts={
            "after": list(result.empty_hosts),
            "emptied": list(result.emptied_hosts),
            "planning_ms": round(planning_ms, 3),
        },
        stopped_because=result.stopped_because,
        note="; ".join(result.warnings) or None,
        created_at=now,
    )
    if state is PlanState.RUNNING:
        row.approved_at = now
        row.approved_by = actor
    row.steps = [
        PlanStepRow(
            seq=n,
            vm_id=snap.vm_ids.get(m.vm),
            vm_name=m.vm,
            source_host_id=snap.host_ids.get(m.source),
            source_host=m.source,
            target_host_id=snap.host_ids.get(m.target),
            target_host=m.target,
            score_before=m.score_before,
            score_after=m.score_after,
            memory_mib=m.memory_mib,
            reason=m.reason,
            state=PlanStepState.PENDING.value,
        )
        for n, m in enumerate(result.moves, start=1)
    ]
    return row


def create_plan(
    ctx: ServiceContext, pool_id: int, request: PlanRequest, dry_run: bool, actor: str
) -> PlanView:
    """Plan now from the pool as it is. A dry run only answers; otherwise the plan is
    stored as a proposal that runs once approved (in any mode)."""
    if request.max_moves is not None and not 0 <= request.max_moves <= 1000:
        raise InvalidInput("max_moves must be 0..1000", field="max_moves")
    if request.min_gain is not None and not 0 <= request.min_gain <= 100:
        raise InvalidInput("min_gain must be 0..100", field="min_gain")
    now = ctx.clock()
    with ctx.uow() as uow:
        pool = uow.pools.get_for_update(pool_id)
        snap, result, ms = _make_plan(uow, pool, now, request)
        min_gain = pool.rebalance_min_gain if request.min_gain is None else request.min_gain
        if dry_run:
            transient = _plan_row(
                pool, snap, result, ms, state=PlanState.PROPOSED, origin="api",
                actor=actor, min_gain=min_gain, now=now,
            )  # fmt: skip
            return replace(plan_view(transient), state="dry-run")
        row = _store(
            uow, pool, snap, result, ms, state=PlanState.PROPOSED, origin="api",
            actor=actor, min_gain=min_gain, now=now,
        )  # fmt: skip
        uow.session.flush()
        view = plan_view(row)
        uow.commit()
        return view


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
    """The pool score as the loop sees it now (lower is better) and its components."""
    with ctx.uow() as uow:
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


# --- approving and cancelling ----------------------------------------------------------


def approve_plan(ctx: ServiceContext, plan_id: int, actor: str) -> PlanView:
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.plans.get(plan_id)
        pool = uow.pools.get_for_update(row.pool_id)
        if row.state != PlanState.PROPOSED.value:
            raise InvalidState(
                f"plan {plan_id} is {row.state}: only a proposed plan can be approved",
                state=row.state,
            )
        running = uow.plans.in_states(pool.id, _ACTIVE_PLAN)
        if running:
            raise InvalidState(f"plan {running[0].id} of pool {pool.name} is still running")
        row.state = PlanState.RUNNING.value
        row.approved_at = now
        row.approved_by = actor
        uow.events.record(actor, "plan.approved", f"plan/{plan_id}", pool=pool.name)
        uow.commit()
    advance_plan(ctx, plan_id)
    return get_plan(ctx, plan_id)


def cancel_plan(ctx: ServiceContext, plan_id: int, actor: str) -> PlanView:
    """Stop a plan: its pending steps are cancelled. A step whose migration already runs
    is left to finish (aborting a live migration half-way gains nothing) and its
    outcome is still recorded."""
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.plans.get(plan_id)
        uow.pools.get_for_update(row.pool_id)
        if PlanState(row.state).is_final:
            raise InvalidState(f"plan {plan_id} is already {row.state}", state=row.state)
        row.state = PlanState.CANCELLED.value
        row.finished_at = now
        for step in row.steps:
            if step.state == PlanStepState.PENDING.value:
                step.state = PlanStepState.CANCELLED.value
                step.finished_at = now
        uow.events.record(actor, "plan.cancelled", f"plan/{plan_id}")
        uow.session.flush()
        view = plan_view(row)
        uow.commit()
        return view


# --- running ---------------------------------------------------------------------------


def _settle_running_step(uow: UnitOfWork, step: PlanStepRow, now: datetime) -> bool:
    """Record the outcome of the step's migration; True while it is still in flight."""
    m = uow.migrations.find(step.migration_id) if step.migration_id is not None else None
    if m is None:
        step.state = PlanStepState.FAILED.value
        step.detail = "its migration record is gone (the VM was deleted)"
        step.finished_at = now
        return False
    state = MigrationState(m.state)
    if not state.is_final:
        return True
    if state is MigrationState.COMPLETED:
        step.state = PlanStepState.COMPLETED.value
    else:
        step.state = PlanStepState.FAILED.value
        step.detail = f"migration {m.id} {m.state}: {m.error or 'no reason given'}"
    step.finished_at = m.finished_at or now
    return False


def _start_next_step(uow: UnitOfWork, plan_row: PlanRow, now: datetime) -> bool:
    """Start the first pending step that is still valid, skipping those that are not.
    True when a migration was queued."""
    pool = uow.pools.get_for_update(plan_row.pool_id)
    for step in plan_row.steps:
        if step.state != PlanStepState.PENDING.value:
            continue
        why = _why_not(uow, pool, plan_row, step, now)
        if why is None:
            vm = uow.vms.get(step.vm_id)  # type: ignore[arg-type]  # checked by _why_not
            try:
                with uow.session.begin_nested():
                    m = migrations.queue_migration(
                        uow, vm, migrations.options_for(vm, step.target_host_id),
                        REBALANCE, f"plan/{plan_row.id}",
                    )  # fmt: skip
            except VmpoolError as exc:
                why = f"the migration was refused: {exc.message}"
            else:
                step.state = PlanStepState.RUNNING.value
                step.migration_id = m.id
                step.started_at = now
                return True
        step.state = PlanStepState.SKIPPED.value
        step.detail = why
        step.finished_at = now
        log.info("plan %s step %s skipped: %s", plan_row.id, step.seq, why)
    return False


def _why_not(
    uow: UnitOfWork, pool: PoolRow, plan_row: PlanRow, step: PlanStepRow, now: datetime
) -> str | None:
    vm = uow.vms.find(step.vm_id) if step.vm_id is not None else None
    if vm is None:
        return f"VM {step.vm_name} no longer exists"
    if vm.host_id != step.source_host_id:
        return f"VM {step.vm_name} is no longer on {step.source_host}"
    if step.target_host_id is None or uow.hosts.find(step.target_host_id) is None:
        return f"host {step.target_host} no longer exists"
    snap = cluster_state.build(uow, pool, now).cluster
    return check_move(snap, step.vm_name, step.target_host, plan_row.strategy, plan_row.min_gain)


def _finish_plan(uow: UnitOfWork, plan_row: PlanRow, now: datetime) -> None:
    pool = uow.pools.get(plan_row.pool_id)
    snap = cluster_state.build(uow, pool, now).cluster
    plan_row.score_final = score_of(snap).total(plan_row.strategy)
    plan_row.state = PlanState.COMPLETED.value
    plan_row.finished_at = now
    counts: dict[str, int] = {}
    for s in plan_row.steps:
        counts[s.state] = counts.get(s.state, 0) + 1
    uow.events.record(
        "scheduler", "plan.completed", f"plan/{plan_row.id}",
        pool=pool.name, steps=counts, score_final=plan_row.score_final,
    )  # fmt: skip


def advance_plan(ctx: ServiceContext, plan_id: int) -> None:
    """One step of the plan executor: settle the step in flight, or start the next one,
    or close the plan when no step is left."""
    now = ctx.clock()
    queued = False
    with ctx.uow() as uow:
        row = uow.plans.get(plan_id)
        in_flight = False
        for step in row.steps:
            if step.state == PlanStepState.RUNNING.value:
                in_flight = _settle_running_step(uow, step, now) or in_flight
        if row.state == PlanState.RUNNING.value and not in_flight:
            queued = _start_next_step(uow, row, now)
            if not queued:
                _finish_plan(uow, row, now)
        uow.commit()
    if queued and ctx.migration_queue is not None:
        ctx.migration_queue.kick()


def advance_all(ctx: ServiceContext) -> None:
    """Move every running plan on, and record the outcome of steps of cancelled plans."""
    with ctx.uow() as uow:
        ids = [
            p.id
            for pool in uow.pools.list()
            for p in uow.plans.in_states(pool.id, [*_ACTIVE_PLAN, PlanState.CANCELLED.value])
            if p.state == PlanState.RUNNING.value
            or any(s.state == PlanStepState.RUNNING.value for s in p.steps)
        ]
    for plan_id in ids:
        try:
            advance_plan(ctx, plan_id)
        except VmpoolError as exc:
            log.warning("plan %s could not advance: %s", plan_id, exc.message)


# --- the cycle -------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleResult:
    pool_id: int
    ran: bool
    result: str
    plan_id: int | None = None


def run_due_cycles(ctx: ServiceContext) -> list[CycleResult]:
    """Run the cycle of every pool whose interval has passed."""
    now = ctx.clock()
    with ctx.uow() as uow:
        due = [
            p.id
            for p in uow.pools.list()
            if p.rebalance_mode != RebalanceMode.OFF.value
            and (
                p.rebalance_last_run_at is None
                or now - p.rebalance_last_run_at >= timedelta(seconds=p.rebalance_interval_s)
            )
        ]
    out: list[CycleResult] = []
    for pool_id in due:
        try:
            out.append(run_cycle(ctx, pool_id))
        except VmpoolError as exc:
            log.warning("rebalance cycle of pool %s failed: %s", pool_id, exc.message)
    return out


def run_cycle(ctx: ServiceContext, pool_id: int) -> CycleResult:
    """One cycle of a pool's loop; see the module docstring for the guards."""
    now = ctx.clock()
    with ctx.uow() as uow:
        pool = uow.pools.get_for_update(pool_id)
        pool.rebalance_last_run_at = now
        outcome = _cycle(uow, pool, now)
        pool.rebalance_last_result = outcome.result
        auto = pool.rebalance_mode == RebalanceMode.AUTO.value
        uow.commit()
    if outcome.plan_id is not None and auto:
        advance_plan(ctx, outcome.plan_id)
    return outcome


def _cycle(uow: UnitOfWork, pool: PoolRow, now: datetime) -> CycleResult:
    mode = RebalanceMode(pool.rebalance_mode)
    if mode is RebalanceMode.OFF:
        pool.rebalance_streak = 0
        return CycleResult(pool.id, False, "rebalancing is off")
    running = uow.plans.in_states(pool.id, _ACTIVE_PLAN)
    if running:
        return CycleResult(pool.id, False, f"plan {running[0].id} is still running")
    in_flight = uow.migrations.active_in_pool(pool.id)
    if in_flight:
        return CycleResult(pool.id, False, f"waiting for {in_flight} migration(s) in flight")
    snap, result, ms = _make_plan(uow, pool, now, PlanRequest())
    seen = Hysteresis(pool.rebalance_hysteresis_cycles, {"pool": pool.rebalance_streak})
    seen = seen.observe(["pool"] if result.moves else [])
    pool.rebalance_streak = seen.streaks.get("pool", 0)
    if not result.moves:
        return CycleResult(
            pool.id,
            True,
            f"no move gains at least {pool.rebalance_min_gain:g} "
            f"(score {result.score_before:.4f}; {result.stopped_because})",
        )
    summary = (
        f"{len(result.moves)} move(s) would take the score from "
        f"{result.score_before:.4f} to {result.score_after:.4f}"
    )
    if not seen.triggered:
        return CycleResult(
            pool.id,
            True,
            f"imbalance seen in {pool.rebalance_streak} of "
            f"{pool.rebalance_hysteresis_cycles} consecutive cycles: {summary}",
        )
    pool.rebalance_streak = 0
    proposed = uow.plans.in_states(pool.id, [PlanState.PROPOSED.value])
    # A waiting proposal stays as long as every step of it would still be valid and still
    # gain: replacing it each time measured load wobbles would pull it from under an
    # operator about to approve it.
    if mode is RebalanceMode.RECOMMEND and proposed and _still_holds(snap, proposed[-1]):
        return CycleResult(
            pool.id, True, f"plan {proposed[-1].id} still waits for approval", proposed[-1].id
        )
    state = PlanState.RUNNING if mode is RebalanceMode.AUTO else PlanState.PROPOSED
    row = _store(
        uow, pool, snap, result, ms, state=state, origin="scheduled", actor="scheduler",
        min_gain=pool.rebalance_min_gain, now=now,
    )  # fmt: skip
    verb = "running" if state is PlanState.RUNNING else "proposed"
    return CycleResult(pool.id, True, f"plan {row.id} {verb}: {summary}", row.id)


def _still_holds(snap: cluster_state.PoolState, row: PlanRow) -> bool:
    """Would every step of the stored plan, applied in order to the pool as it is now,
    still start from its source and pass the executor's re-check?"""
    now = snap.cluster
    for step in row.steps:
        where = {v.name: v.host for v in now.vms}
        if where.get(step.vm_name) != step.source_host:
            return False
        if check_move(now, step.vm_name, step.target_host, row.strategy, row.min_gain):
            return False
        now = apply_moves(now, [(step.vm_name, step.target_host)])
    return bool(row.steps)
