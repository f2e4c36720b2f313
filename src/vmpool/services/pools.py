"""Pool use cases."""

from __future__ import annotations

from vmpool.adapters.db.tables import PoolRow
from vmpool.errors import InvalidState
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import PoolView, pool_view

DEFAULT_POOL = "default"


def default_pool(uow: UnitOfWork) -> PoolRow:
    pool = uow.pools.by_name(DEFAULT_POOL)
    if pool is None:
        raise InvalidState("the default pool is missing: run `vmpool db upgrade`")
    return pool


def list_pools(ctx: ServiceContext) -> list[PoolView]:
    with ctx.uow() as uow:
        return [pool_view(p) for p in uow.pools.list()]


def get_pool(ctx: ServiceContext, pool_id: int) -> PoolView:
    with ctx.uow() as uow:
        return pool_view(uow.pools.get(pool_id))
