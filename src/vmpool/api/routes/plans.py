"""Rebalance plans (the scheduling loop, docs/rebalance.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import BeforeCursor, PathId
from vmpool.api.schemas import PlanCreate, PlanList, PlanOut
from vmpool.services import plan_execution, plan_views, rebalance
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES, dependencies=secured)

PlanStateFilter = Literal["proposed", "running", "completed", "cancelled", "superseded"]


@router.get(
    "/v1/pools/{pool_id}/plans",
    operation_id="list_plans",
    response_model=PlanList,
    responses=responses(404),
)
def list_plans(
    pool_id: PathId,
    state: PlanStateFilter | None = None,
    before: BeforeCursor = None,
    limit: int = Query(default=20, ge=1, le=200),
    ctx: ServiceContext = Scoped,
) -> PlanList:
    """The pool's plans, newest first, with their steps and outcomes."""
    items = plan_views.list_plans(ctx, pool_id, state, limit, before)
    next_before = items[-1].id if len(items) == limit else None
    return PlanList(items=[PlanOut.model_validate(p) for p in items], next_before=next_before)


@router.post(
    "/v1/pools/{pool_id}/plans",
    operation_id="create_plan",
    status_code=201,
    response_model=PlanOut,
    responses=responses(404),
)
def create_plan(
    pool_id: PathId,
    body: PlanCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> PlanOut:
    """Plan now. With `dry_run` the plan is only returned (id null); otherwise it is stored
    as `proposed` and runs once approved, whatever the pool's mode."""
    request = rebalance.PlanRequest(
        strategy=body.strategy,
        max_moves=body.max_moves,
        min_gain=body.min_gain,
        max_memory_mib=body.max_memory_mib,
    )
    view = rebalance.create_plan(ctx, pool_id, request, body.dry_run, principal.name)
    return PlanOut.model_validate(view)


@router.get(
    "/v1/plans/{plan_id}",
    operation_id="get_plan",
    response_model=PlanOut,
    responses=responses(404),
)
def get_plan(plan_id: PathId, ctx: ServiceContext = Scoped) -> PlanOut:
    return PlanOut.model_validate(plan_views.get_plan(ctx, plan_id))


@router.post(
    "/v1/plans/{plan_id}/approve",
    operation_id="approve_plan",
    response_model=PlanOut,
    responses=responses(404, 409),
)
def approve_plan(
    plan_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> PlanOut:
    """Run a proposed plan: its steps migrate one at a time, each checked again first."""
    return PlanOut.model_validate(plan_execution.approve_plan(ctx, plan_id, principal.name))


@router.post(
    "/v1/plans/{plan_id}/cancel",
    operation_id="cancel_plan",
    response_model=PlanOut,
    responses=responses(404, 409),
)
def cancel_plan(
    plan_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> PlanOut:
    """Cancel the steps not yet started; a migration already running finishes."""
    return PlanOut.model_validate(plan_execution.cancel_plan(ctx, plan_id, principal.name))
