from __future__ import annotations

from fastapi import APIRouter, Depends

from vmpool.api.auth import read_access, service_context
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.schemas import PoolList, PoolOut
from vmpool.services import pools
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(prefix="/v1/pools", tags=["pools"], responses=ERROR_RESPONSES)


@router.get("", operation_id="list_pools", response_model=PoolList, dependencies=[read_access])
def list_pools(ctx: ServiceContext = Depends(service_context)) -> PoolList:
    return PoolList(items=[PoolOut.model_validate(p) for p in pools.list_pools(ctx)])


@router.get(
    "/{pool_id}",
    operation_id="get_pool",
    response_model=PoolOut,
    dependencies=[read_access],
    responses=responses(404),
)
def get_pool(pool_id: int, ctx: ServiceContext = Depends(service_context)) -> PoolOut:
    return PoolOut.model_validate(pools.get_pool(ctx, pool_id))
