from __future__ import annotations

from fastapi import APIRouter, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, Limit, PathId, next_after
from vmpool.api.redact import for_caller
from vmpool.api.schemas import GroupCreate, GroupList, GroupOut
from vmpool.services import groups
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/placement-groups",
    tags=["placement-groups"],
    responses=ERROR_RESPONSES,
    dependencies=secured,
)


@router.post(
    "",
    operation_id="create_placement_group",
    status_code=201,
    response_model=GroupOut,
    responses=responses(404, 409),
)
def create_group(
    body: GroupCreate,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> GroupOut:
    """VMs created with `placement_group` set share a host (affinity) or never do (anti-affinity);
    `hard` makes it a must, otherwise placement only prefers it."""
    view = groups.create_group(
        ctx, body.name, body.policy, body.hard, body.pool_id, principal.name, body.project_id
    )
    return for_caller(GroupOut.model_validate(view), principal)


@router.get("", operation_id="list_placement_groups", response_model=GroupList)
def list_groups(
    after: AfterCursor = 0, limit: Limit = 100, ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> GroupList:  # fmt: skip
    found = groups.list_groups(ctx, after, limit)
    items = [for_caller(GroupOut.model_validate(g), principal) for g in found]
    return GroupList(items=items, next_after=next_after([g.id for g in found], limit))


@router.get(
    "/{group_id}",
    operation_id="get_placement_group",
    response_model=GroupOut,
    responses=responses(404),
)
def get_group(
    group_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> GroupOut:
    return for_caller(GroupOut.model_validate(groups.get_group(ctx, group_id)), principal)


@router.delete(
    "/{group_id}",
    operation_id="delete_placement_group",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_group(
    group_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> Response:
    """Delete an empty placement group."""
    groups.delete_group(ctx, group_id, principal.name)
    return Response(status_code=204)
