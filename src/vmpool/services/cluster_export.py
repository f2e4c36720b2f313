"""Export a pool in the offline cluster state format (docs/rebalance.md), for `vmpool plan`:
the same cluster state the scheduling loop plans from, measured load and groups included."""

from __future__ import annotations

from typing import Any

from vmpool.domain.cluster_state import cluster_to_json
from vmpool.errors import NotFound
from vmpool.services import cluster_state
from vmpool.services.pools import default_pool
from vmpool.services.unit_of_work import ServiceContext


def export_pool(ctx: ServiceContext, pool_name: str | None = None) -> dict[str, Any]:
    with ctx.uow() as uow:
        pool = uow.pools.by_name(pool_name) if pool_name else default_pool(uow)
        if pool is None:
            raise NotFound(f"pool {pool_name} does not exist")
        return cluster_to_json(cluster_state.build(uow, pool, ctx.clock()).cluster)
