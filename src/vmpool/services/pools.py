"""Pool use cases: the allocation policy as data, and how much more a pool can take."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any

from vmpool.adapters.db.tables import PoolRow
from vmpool.domain import lease, limits
from vmpool.domain.cluster_state import Strategy
from vmpool.domain.model import (
    PlacementRequirements,
    PlacementStrategy,
    RebalanceMode,
)
from vmpool.domain.names import validate_name
from vmpool.domain.placement import CapacityReport, capacity
from vmpool.errors import AlreadyExists, InvalidInput, InvalidState
from vmpool.services.placement_hosts import placement_hosts
from vmpool.services.preconditions import IfMatch, check_if_match
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import PoolView, pool_view

DEFAULT_POOL = "default"


@dataclass(frozen=True)
class PolicyChange:
    """Fields left None are not changed."""

    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None
    reserved_vcpus: int | None = None
    reserved_memory_mib: int | None = None
    reserved_disk_gib: int | None = None
    strategy: PlacementStrategy | None = None
    # The scheduling loop (docs/rebalance.md).
    rebalance_mode: RebalanceMode | None = None
    rebalance_strategy: Strategy | None = None
    rebalance_interval_s: int | None = None
    rebalance_min_gain: float | None = None
    rebalance_hysteresis_cycles: int | None = None
    rebalance_cooldown_s: int | None = None
    rebalance_max_moves: int | None = None
    rebalance_max_memory_mib: int | None = None
    migration_tls: bool | None = None
    members_may_migrate: bool | None = None
    # Leases and the idle rule (docs/lifecycle.md).
    default_lease_s: int | None = None
    max_lease_s: int | None = None
    default_reclaim_policy: str | None = None
    idle_cpu_percent: float | None = None
    idle_period_s: int | None = None
    idle_action: str | None = None
    idle_warning_s: int | None = None
    # Nullable settings set back to None (no default lease, no maximum, no idle rule).
    cleared: frozenset[str] = frozenset()

    def given(self) -> dict[str, Any]:
        values = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "cleared" and getattr(self, f.name) is not None
        }
        unknown = self.cleared - CLEARABLE
        if unknown:
            raise InvalidInput(
                f"only {', '.join(sorted(CLEARABLE))} may be set to null", fields=sorted(unknown)
            )
        return values | dict.fromkeys(self.cleared)


# The pool settings whose None means something (no default lease, no maximum, no idle rule).
CLEARABLE = frozenset({"default_lease_s", "max_lease_s", "idle_cpu_percent"})


# Bounds of the scheduling loop's knobs.
REBALANCE_BOUNDS: dict[str, limits.Bound] = {
    "rebalance_interval_s": limits.REBALANCE_INTERVAL_S,
    "rebalance_min_gain": limits.MIN_GAIN,
    "rebalance_hysteresis_cycles": limits.HYSTERESIS_CYCLES,
    "rebalance_cooldown_s": limits.COOLDOWN_S,
    "rebalance_max_moves": limits.MAX_MOVES,
    "rebalance_max_memory_mib": limits.MAX_MEMORY_MIB,
}


def check_ratios(values: dict[str, Any]) -> None:
    for key, bound in REBALANCE_BOUNDS.items():
        bound.check(values.get(key), key)
    check_lease_settings(values)
    for key, value in values.items():
        if key.endswith("_ratio"):
            limits.RATIO.check(value, key)
        if key.startswith("reserved_"):
            limits.RESERVED.check(value, key)


def check_lease_settings(values: dict[str, Any]) -> None:
    """The lease and idle settings of a pool create or change (None: cleared)."""
    for key, bound in (
        ("default_lease_s", lease.LEASE_S),
        ("max_lease_s", lease.LEASE_S),
        ("idle_cpu_percent", lease.IDLE_CPU_PERCENT),
        ("idle_period_s", lease.IDLE_PERIOD_S),
        ("idle_warning_s", lease.IDLE_WARNING_S),
    ):
        bound.check(values.get(key), key)
    if values.get("default_reclaim_policy") is not None:
        values["default_reclaim_policy"] = lease.reclaim_policy(
            str(values["default_reclaim_policy"]), "default_reclaim_policy"
        ).value
    if values.get("idle_action") is not None:
        values["idle_action"] = lease.idle_action(str(values["idle_action"])).value


def check_lease_fits(row: PoolRow) -> None:
    """A pool's default lease is within its own maximum."""
    if (
        row.default_lease_s is not None
        and row.max_lease_s is not None
        and row.default_lease_s > row.max_lease_s
    ):
        raise InvalidInput(
            f"default_lease_s ({row.default_lease_s}) is beyond max_lease_s ({row.max_lease_s})",
            field="default_lease_s",
        )


def default_pool(uow: UnitOfWork) -> PoolRow:
    pool = uow.pools.by_name(DEFAULT_POOL)
    if pool is None:
        raise InvalidState("the default pool is missing: run `vmpool db upgrade`")
    return pool


def list_pools(
    ctx: ServiceContext, after_id: int = 0, limit: int = 100, name: str | None = None
) -> list[PoolView]:
    with ctx.uow() as uow:
        return [pool_view(p) for p in uow.pools.list(after_id, limit, name)]


def get_pool(ctx: ServiceContext, pool_id: int) -> PoolView:
    with ctx.uow() as uow:
        return pool_view(uow.pools.get(pool_id))


def create_pool(ctx: ServiceContext, name: str, policy: PolicyChange, actor: str) -> PoolView:
    validate_name(name, "pool name")
    values = _jsonable(policy.given())
    check_ratios(values)
    with ctx.uow() as uow:
        if uow.pools.by_name(name) is not None:
            raise AlreadyExists(f"a pool named {name} already exists", name=name)
        row = PoolRow(name=name, **values)
        check_lease_fits(row)
        uow.pools.add(row)
        uow.events.record(actor, "pool.created", f"pool/{row.id}", name=name, **_jsonable(values))
        view = pool_view(row)
        uow.commit()
        return view


def update_pool(
    ctx: ServiceContext,
    pool_id: int,
    change: PolicyChange,
    actor: str,
    if_match: IfMatch | None = None,
) -> PoolView:
    """Change the policy; with `if_match`, only if the pool's ETag still matches (checked
    under the pool lock)."""
    values = change.given()
    check_ratios(values)
    with ctx.uow() as uow:
        row = uow.pools.get_for_update(pool_id)
        check_if_match(if_match, row)
        before = {k: getattr(row, k) for k in values}
        for key, value in _jsonable(values).items():
            setattr(row, key, value)
        check_lease_fits(row)
        if change.rebalance_mode is not None or change.rebalance_hysteresis_cycles is not None:
            row.rebalance_streak = 0  # the imbalance is counted afresh under the new rules
        uow.events.record(
            actor,
            "pool.updated",
            f"pool/{pool_id}",
            before=_jsonable(before),
            after=_jsonable(values),
        )
        uow.flush()
        view = pool_view(row)
        uow.commit()
        return view


def delete_pool(ctx: ServiceContext, pool_id: int, actor: str) -> None:
    with ctx.uow() as uow:
        row = uow.pools.get_for_update(pool_id)
        if row.name == DEFAULT_POOL:
            raise InvalidState("the default pool cannot be deleted")
        held = [
            what
            for what, present in (
                ("hosts", uow.hosts.list(pool_id=pool_id)),
                ("VMs", uow.vms.page(pool_id=pool_id, limit=1)),
                ("placement groups", uow.groups.list(pool_id=pool_id)),
            )
            if present
        ]
        if held:
            raise InvalidState(
                f"pool {row.name} still has {', '.join(held)}: delete or move them first",
                pool_id=pool_id,
                still_has=held,
            )
        uow.pools.delete(row)
        uow.events.record(actor, "pool.deleted", f"pool/{pool_id}", name=row.name)
        uow.commit()


def pool_capacity(
    ctx: ServiceContext, pool_id: int, request: PlacementRequirements
) -> CapacityReport:
    with ctx.uow() as uow:
        pool = uow.pools.get(pool_id)
        return capacity(placement_hosts(uow, pool), request)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in values.items()}
