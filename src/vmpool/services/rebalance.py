"""The scheduling loop's use cases: plan and store rebalance plans (approving and running
them is `plan_execution`; reading them is `plan_views`).

A cycle (one per pool, at the pool's interval) plans from a fresh cluster state; an improving
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
from vmpool.domain import limits
from vmpool.domain.cluster_state import Strategy
from vmpool.domain.model import RebalanceMode
from vmpool.domain.plan import PlanState
from vmpool.domain.rebalance import Hysteresis, Plan, PlannerConfig, apply_moves, check_move, plan
from vmpool.errors import VmpoolError
from vmpool.services import cluster_state
from vmpool.services.plan_execution import ACTIVE_PLAN, advance_plan
from vmpool.services.plan_views import PlanView, plan_view
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


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
        old.supersede(now)
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
            "disk_gib_moved": result.disk_gib_moved,
        },
        stopped_because=result.stopped_because,
        note="; ".join(result.warnings) or None,
        created_at=now,
    )
    if state is PlanState.RUNNING:
        row.approve(actor, now)  # the loop in auto mode approves its own plan
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
        )
        for n, m in enumerate(result.moves, start=1)
    ]
    return row


def create_plan(
    ctx: ServiceContext, pool_id: int, request: PlanRequest, dry_run: bool, actor: str
) -> PlanView:
    """Plan now from the pool as it is. A dry run only answers; otherwise the plan is
    stored as a proposal that runs once approved (in any mode)."""
    limits.MAX_MOVES.check(request.max_moves, "max_moves")
    limits.MIN_GAIN.check(request.min_gain, "min_gain")
    limits.MAX_MEMORY_MIB.check(request.max_memory_mib, "max_memory_mib")
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
        uow.flush()
        view = plan_view(row)
        uow.commit()
        return view


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
    running = uow.plans.in_states(pool.id, ACTIVE_PLAN)
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
