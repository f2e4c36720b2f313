from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, Limit, NameFilter, PathId, next_after
from vmpool.api.preconditions import ETAG_OK, Conditional, with_etag
from vmpool.api.schemas import (
    CapacityOut,
    HostRoomOut,
    HostScoreOut,
    PoolCreate,
    PoolList,
    PoolOut,
    PoolPolicyIn,
    PoolScoreOut,
    RejectionOut,
)
from vmpool.domain.model import PlacementRequirements
from vmpool.services import plan_views, pools
from vmpool.services.preconditions import IfMatch
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/pools", tags=["pools"], responses=ERROR_RESPONSES, dependencies=secured
)


def _change(body: PoolPolicyIn) -> pools.PolicyChange:
    # An explicit null clears a nullable setting (no default lease, no maximum, no idle
    # rule); elsewhere null (or leaving a field out) changes nothing.
    cleared = frozenset(
        f for f in body.model_fields_set & pools.CLEARABLE if getattr(body, f) is None
    )
    return pools.PolicyChange(
        **body.model_dump(exclude={"name"}, exclude_none=True), cleared=cleared
    )


@router.get("", operation_id="list_pools", response_model=PoolList)
def list_pools(
    name: NameFilter = None,
    after: AfterCursor = 0,
    limit: Limit = 100,
    ctx: ServiceContext = Scoped,
) -> PoolList:
    found = pools.list_pools(ctx, after, limit, name)
    return PoolList(
        items=[PoolOut.model_validate(p) for p in found],
        next_after=next_after([p.id for p in found], limit),
    )


@router.post(
    "",
    operation_id="create_pool",
    status_code=201,
    response_model=PoolOut,
    responses=responses(409),
)
def create_pool(
    body: PoolCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> PoolOut:
    """Create a pool with its allocation policy (unset fields take OpenStack's defaults)."""
    return PoolOut.model_validate(pools.create_pool(ctx, body.name, _change(body), principal.name))


@router.get(
    "/{pool_id}",
    operation_id="get_pool",
    response_model=PoolOut,
    responses=responses(404) | ETAG_OK,
)
def get_pool(pool_id: PathId, response: Response, ctx: ServiceContext = Scoped) -> PoolOut:
    view = pools.get_pool(ctx, pool_id)
    with_etag(response, view)
    return PoolOut.model_validate(view)


@router.patch(
    "/{pool_id}",
    operation_id="update_pool",
    response_model=PoolOut,
    responses=responses(404, 412) | ETAG_OK,
)
def update_pool(
    pool_id: PathId,
    body: PoolPolicyIn,
    response: Response,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
    if_match: IfMatch | None = Conditional,
) -> PoolOut:
    """Change the allocation policy; the change is recorded in the audit trail (/v1/events).
    With If-Match, only if the pool's ETag still matches (else 412)."""
    view = pools.update_pool(ctx, pool_id, _change(body), principal.name, if_match)
    with_etag(response, view)
    return PoolOut.model_validate(view)


@router.delete(
    "/{pool_id}",
    operation_id="delete_pool",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_pool(
    pool_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Delete an empty pool (never the default one)."""
    pools.delete_pool(ctx, pool_id, principal.name)
    return Response(status_code=204)


@router.get(
    "/{pool_id}/capacity",
    operation_id="get_pool_capacity",
    response_model=CapacityOut,
    responses=responses(404),
)
def get_pool_capacity(
    pool_id: PathId,
    vcpus: int = Query(ge=1, le=512),
    memory_mib: int = Query(ge=16, le=16 * 1024 * 1024),
    disk_gib: int = Query(default=0, ge=0, le=1024 * 1024),
    guaranteed: bool = False,
    ctx: ServiceContext = Scoped,
) -> CapacityOut:
    """How many more VMs of this size fit, per host and in total (like Ganeti's hspace)."""
    request = PlacementRequirements(
        vcpus=vcpus, memory_mib=memory_mib, disk_gib=disk_gib, guaranteed=guaranteed
    )
    report = pools.pool_capacity(ctx, pool_id, request)
    return CapacityOut(
        vcpus=vcpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        total=report.total,
        per_host=[HostRoomOut(host=r.host, count=r.count) for r in report.per_host],
        rejections=[
            RejectionOut(filter=r.filter, hosts=len(r.hosts), reason=r.reason)
            for r in report.rejections
        ],
    )


@router.get(
    "/{pool_id}/score",
    operation_id="get_pool_score",
    response_model=PoolScoreOut,
    responses=responses(404),
)
def get_pool_score(pool_id: PathId, ctx: ServiceContext = Scoped) -> PoolScoreOut:
    """The pool score now (lower is better), its components and each host's fractions."""
    view = plan_views.pool_score(ctx, pool_id)
    return PoolScoreOut(
        pool_id=view.pool_id,
        strategy=view.strategy,
        score=view.score,
        components=view.components,
        hosts=[HostScoreOut.model_validate(h) for h in view.hosts],
        empty_hosts=view.empty_hosts,
        warnings=view.warnings,
    )
