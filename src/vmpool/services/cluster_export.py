"""Export a pool in the offline snapshot format (docs/rebalance.md), for `vmpool plan`.

The format has no per-host ratio or reservation overrides: the pool's values apply."""

from __future__ import annotations

from typing import Any

from vmpool.domain.model import HostState
from vmpool.errors import NotFound
from vmpool.services.pools import default_pool
from vmpool.services.unit_of_work import ServiceContext

_STATE = {
    HostState.UP.value: "up",
    HostState.MAINTENANCE.value: "maintenance",
    HostState.UNREACHABLE.value: "down",
}


def export_pool(ctx: ServiceContext, pool_name: str | None = None) -> dict[str, Any]:
    with ctx.uow() as uow:
        pool = uow.pools.by_name(pool_name) if pool_name else default_pool(uow)
        if pool is None:
            raise NotFound(f"pool {pool_name} does not exist")
        hosts = uow.hosts.list(pool_id=pool.id)
        names = {h.id: h.name for h in hosts}
        vms = [v for v in uow.vms.page(pool_id=pool.id, limit=1_000_000) if v.host_id is not None]
        return {
            "version": 1,
            "hosts": [
                {
                    "name": h.name,
                    "vcpus": h.cpus,
                    "memory_mib": h.memory_mib,
                    "disk_gib": h.disk_gib,
                    "state": _STATE[h.state],
                }
                for h in hosts
            ],
            "vms": [
                {
                    "name": v.name,
                    "host": names[v.host_id],
                    "vcpus": v.vcpus,
                    "memory_mib": v.memory_mib,
                    "disk_gib": v.disk_gib,
                    "migratable": v.migratable,
                }
                for v in vms
                if v.host_id in names
            ],
            "policy": {
                "cpu_allocation_ratio": pool.cpu_allocation_ratio,
                "ram_allocation_ratio": pool.ram_allocation_ratio,
                "disk_allocation_ratio": pool.disk_allocation_ratio,
                "reserved_vcpus": pool.reserved_vcpus,
                "reserved_memory_mib": pool.reserved_memory_mib,
                "reserved_disk_gib": pool.reserved_disk_gib,
                "strategy": "balance",
                "max_migrations": pool.max_migrations_per_pool,
            },
        }
