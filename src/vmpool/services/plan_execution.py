"""Running an approved rebalance plan, one step at a time, through the migration queue.

Before each step the move is checked again against the pool as it is now, and skipped
(with the reason) when it is no longer valid or no longer gains enough. Cancelling a plan
cancels its pending steps; a step whose migration runs is left to finish.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from vmpool.adapters.db.tables import PlanRow, PlanStepRow, PoolRow
from vmpool.domain.migration import MigrationState
from vmpool.domain.plan import PlanState, PlanStepState
from vmpool.domain.ports import Metrics
from vmpool.domain.rebalance import check_move
from vmpool.domain.rebalance import score as score_of
from vmpool.errors import Fenced, InvalidState, VmpoolError
from vmpool.services import cluster_state, migrations
from vmpool.services.plan_views import PlanView, get_plan, plan_view
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)

REBALANCE = "rebalance"  # the reason of the migrations a plan asks for
ACTIVE_PLAN = [PlanState.RUNNING.value]


def approve_plan(ctx: ServiceContext, plan_id: int, actor: str) -> PlanView:
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.plans.get(plan_id)
        pool = uow.pools.get_for_update(row.pool_id)
        running = uow.plans.in_states(pool.id, ACTIVE_PLAN)
        if running and row.plan_state is PlanState.PROPOSED:
            raise InvalidState(f"plan {running[0].id} of pool {pool.name} is still running")
        row.approve(actor, now)
        uow.events.record(actor, "plan.approved", f"plan/{plan_id}", pool=pool.name)
        uow.commit()
    # On a replica that is not the leader, the leader's plan job starts it.
    with contextlib.suppress(Fenced):
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
        row.cancel(now)
        uow.events.record(actor, "plan.cancelled", f"plan/{plan_id}")
        uow.flush()
        view = plan_view(row)
        uow.commit()
        return view


def _settle_running_step(uow: UnitOfWork, step: PlanStepRow, now: datetime) -> bool:
    """Record the outcome of the step's migration; True while it is still in flight."""
    m = uow.migrations.find(step.migration_id) if step.migration_id is not None else None
    if m is None:
        step.fail("its migration record is gone (the VM was deleted)", now)
        return False
    if not m.is_final:
        return True
    ended = m.finished_at or now
    if m.migration_state is MigrationState.COMPLETED:
        step.complete(ended)
    else:
        step.fail(f"migration {m.id} {m.state}: {m.error or 'no reason given'}", ended)
    return False


def _start_next_step(uow: UnitOfWork, plan_row: PlanRow, now: datetime, metrics: Metrics) -> bool:
    """Start the first pending step that is still valid, skipping those that are not.
    True when a migration was queued."""
    pool = uow.pools.get_for_update(plan_row.pool_id)
    for step in plan_row.steps:
        if step.step_state is not PlanStepState.PENDING:
            continue
        why = _why_not(uow, pool, plan_row, step, now)
        if why is None:
            vm = uow.vms.get(step.vm_id)  # type: ignore[arg-type]  # checked by _why_not
            try:
                with uow.savepoint():
                    m = migrations.queue_migration(
                        uow, vm, migrations.options_for(uow, vm, step.target_host_id),
                        REBALANCE, f"plan/{plan_row.id}", metrics,
                    )  # fmt: skip
            except VmpoolError as exc:
                why = f"the migration was refused: {exc.message}"
            else:
                step.start(m.id, now)
                return True
        step.skip(why, now)
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
    plan_row.complete(score_of(snap).total(plan_row.strategy), now)
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
        ctx.check_leader(uow)
        row = uow.plans.get(plan_id)
        in_flight = False
        for step in row.steps:
            if step.step_state is PlanStepState.RUNNING:
                in_flight = _settle_running_step(uow, step, now) or in_flight
        if row.plan_state is PlanState.RUNNING and not in_flight:
            queued = _start_next_step(uow, row, now, ctx.metrics)
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
            for p in uow.plans.in_states(pool.id, [*ACTIVE_PLAN, PlanState.CANCELLED.value])
            if p.plan_state is PlanState.RUNNING
            or any(s.step_state is PlanStepState.RUNNING for s in p.steps)
        ]
    for plan_id in ids:
        try:
            advance_plan(ctx, plan_id)
        except VmpoolError as exc:
            log.warning("plan %s could not advance: %s", plan_id, exc.message)
