from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.placement_strategy import PlacementStrategy
from ..models.pool_policy_in_default_reclaim_policy_type_0 import (
    PoolPolicyInDefaultReclaimPolicyType0,
)
from ..models.pool_policy_in_idle_action_type_0 import PoolPolicyInIdleActionType0
from ..models.rebalance_mode import RebalanceMode
from ..models.strategy import Strategy
from ..types import UNSET, Unset

T = TypeVar("T", bound="PoolPolicyIn")


@_attrs_define
class PoolPolicyIn:
    """
    Attributes:
        cpu_allocation_ratio (float | None | Unset): default 4.0
        default_lease_s (int | None | Unset): the lease (seconds) a new VM gets unless it asks; null: none
        default_reclaim_policy (None | PoolPolicyInDefaultReclaimPolicyType0 | Unset): stop (default), delete or
            snapshot_then_delete
        disk_allocation_ratio (float | None | Unset): default 1.0
        idle_action (None | PoolPolicyInIdleActionType0 | Unset): report (default): an event and the API; reclaim: then
            a warning, and its reclaim policy idle_warning_s later
        idle_cpu_percent (float | None | Unset): a running VM whose smoothed CPU (percent of its vCPUs) stays under this
            is idle; null: no idle rule
        idle_period_s (int | None | Unset): how long under the threshold makes it idle; default 3600
        idle_warning_s (int | None | Unset): between the idle warning and the reclaim; default 3600
        max_lease_s (int | None | Unset): the furthest from now a lease may reach (create, renew); null: no limit
        members_may_migrate (bool | None | Unset): project members may ask to migrate their VMs (no target)
        migration_tls (bool | None | Unset): QEMU encrypts migration data (VIR_MIGRATE_TLS); the hosts need TLS
            certificates (docs/security.md)
        ram_allocation_ratio (float | None | Unset): default 1.0
        rebalance_cooldown_s (int | None | Unset): a VM moved this recently is not moved again; default 1800
        rebalance_hysteresis_cycles (int | None | Unset): consecutive cycles an imbalance must persist before acting;
            default 3
        rebalance_interval_s (int | None | Unset): seconds between cycles; default 300
        rebalance_max_memory_mib (int | None | Unset): MiB a plan may copy (the moved VMs' memory); 0 (default): no
            memory budget. With a memory budget the planner takes the most gain per MiB
        rebalance_max_moves (int | None | Unset): migrations per plan; default 5
        rebalance_min_gain (float | None | Unset): least score gain of a move; default 0.01
        rebalance_mode (None | RebalanceMode | Unset): the scheduling loop: off (default), recommend or auto
        rebalance_strategy (None | Strategy | Unset): balance (default) or consolidate
        reserved_disk_gib (int | None | Unset):
        reserved_memory_mib (int | None | Unset): per host
        reserved_vcpus (int | None | Unset): per host, for the host
        strategy (None | PlacementStrategy | Unset): spread, pack, balanced
    """

    cpu_allocation_ratio: float | None | Unset = UNSET
    default_lease_s: int | None | Unset = UNSET
    default_reclaim_policy: None | PoolPolicyInDefaultReclaimPolicyType0 | Unset = UNSET
    disk_allocation_ratio: float | None | Unset = UNSET
    idle_action: None | PoolPolicyInIdleActionType0 | Unset = UNSET
    idle_cpu_percent: float | None | Unset = UNSET
    idle_period_s: int | None | Unset = UNSET
    idle_warning_s: int | None | Unset = UNSET
    max_lease_s: int | None | Unset = UNSET
    members_may_migrate: bool | None | Unset = UNSET
    migration_tls: bool | None | Unset = UNSET
    ram_allocation_ratio: float | None | Unset = UNSET
    rebalance_cooldown_s: int | None | Unset = UNSET
    rebalance_hysteresis_cycles: int | None | Unset = UNSET
    rebalance_interval_s: int | None | Unset = UNSET
    rebalance_max_memory_mib: int | None | Unset = UNSET
    rebalance_max_moves: int | None | Unset = UNSET
    rebalance_min_gain: float | None | Unset = UNSET
    rebalance_mode: None | RebalanceMode | Unset = UNSET
    rebalance_strategy: None | Strategy | Unset = UNSET
    reserved_disk_gib: int | None | Unset = UNSET
    reserved_memory_mib: int | None | Unset = UNSET
    reserved_vcpus: int | None | Unset = UNSET
    strategy: None | PlacementStrategy | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cpu_allocation_ratio: float | None | Unset
        if isinstance(self.cpu_allocation_ratio, Unset):
            cpu_allocation_ratio = UNSET
        else:
            cpu_allocation_ratio = self.cpu_allocation_ratio

        default_lease_s: int | None | Unset
        if isinstance(self.default_lease_s, Unset):
            default_lease_s = UNSET
        else:
            default_lease_s = self.default_lease_s

        default_reclaim_policy: None | str | Unset
        if isinstance(self.default_reclaim_policy, Unset):
            default_reclaim_policy = UNSET
        elif isinstance(self.default_reclaim_policy, PoolPolicyInDefaultReclaimPolicyType0):
            default_reclaim_policy = self.default_reclaim_policy.value
        else:
            default_reclaim_policy = self.default_reclaim_policy

        disk_allocation_ratio: float | None | Unset
        if isinstance(self.disk_allocation_ratio, Unset):
            disk_allocation_ratio = UNSET
        else:
            disk_allocation_ratio = self.disk_allocation_ratio

        idle_action: None | str | Unset
        if isinstance(self.idle_action, Unset):
            idle_action = UNSET
        elif isinstance(self.idle_action, PoolPolicyInIdleActionType0):
            idle_action = self.idle_action.value
        else:
            idle_action = self.idle_action

        idle_cpu_percent: float | None | Unset
        if isinstance(self.idle_cpu_percent, Unset):
            idle_cpu_percent = UNSET
        else:
            idle_cpu_percent = self.idle_cpu_percent

        idle_period_s: int | None | Unset
        if isinstance(self.idle_period_s, Unset):
            idle_period_s = UNSET
        else:
            idle_period_s = self.idle_period_s

        idle_warning_s: int | None | Unset
        if isinstance(self.idle_warning_s, Unset):
            idle_warning_s = UNSET
        else:
            idle_warning_s = self.idle_warning_s

        max_lease_s: int | None | Unset
        if isinstance(self.max_lease_s, Unset):
            max_lease_s = UNSET
        else:
            max_lease_s = self.max_lease_s

        members_may_migrate: bool | None | Unset
        if isinstance(self.members_may_migrate, Unset):
            members_may_migrate = UNSET
        else:
            members_may_migrate = self.members_may_migrate

        migration_tls: bool | None | Unset
        if isinstance(self.migration_tls, Unset):
            migration_tls = UNSET
        else:
            migration_tls = self.migration_tls

        ram_allocation_ratio: float | None | Unset
        if isinstance(self.ram_allocation_ratio, Unset):
            ram_allocation_ratio = UNSET
        else:
            ram_allocation_ratio = self.ram_allocation_ratio

        rebalance_cooldown_s: int | None | Unset
        if isinstance(self.rebalance_cooldown_s, Unset):
            rebalance_cooldown_s = UNSET
        else:
            rebalance_cooldown_s = self.rebalance_cooldown_s

        rebalance_hysteresis_cycles: int | None | Unset
        if isinstance(self.rebalance_hysteresis_cycles, Unset):
            rebalance_hysteresis_cycles = UNSET
        else:
            rebalance_hysteresis_cycles = self.rebalance_hysteresis_cycles

        rebalance_interval_s: int | None | Unset
        if isinstance(self.rebalance_interval_s, Unset):
            rebalance_interval_s = UNSET
        else:
            rebalance_interval_s = self.rebalance_interval_s

        rebalance_max_memory_mib: int | None | Unset
        if isinstance(self.rebalance_max_memory_mib, Unset):
            rebalance_max_memory_mib = UNSET
        else:
            rebalance_max_memory_mib = self.rebalance_max_memory_mib

        rebalance_max_moves: int | None | Unset
        if isinstance(self.rebalance_max_moves, Unset):
            rebalance_max_moves = UNSET
        else:
            rebalance_max_moves = self.rebalance_max_moves

        rebalance_min_gain: float | None | Unset
        if isinstance(self.rebalance_min_gain, Unset):
            rebalance_min_gain = UNSET
        else:
            rebalance_min_gain = self.rebalance_min_gain

        rebalance_mode: None | str | Unset
        if isinstance(self.rebalance_mode, Unset):
            rebalance_mode = UNSET
        elif isinstance(self.rebalance_mode, RebalanceMode):
            rebalance_mode = self.rebalance_mode.value
        else:
            rebalance_mode = self.rebalance_mode

        rebalance_strategy: None | str | Unset
        if isinstance(self.rebalance_strategy, Unset):
            rebalance_strategy = UNSET
        elif isinstance(self.rebalance_strategy, Strategy):
            rebalance_strategy = self.rebalance_strategy.value
        else:
            rebalance_strategy = self.rebalance_strategy

        reserved_disk_gib: int | None | Unset
        if isinstance(self.reserved_disk_gib, Unset):
            reserved_disk_gib = UNSET
        else:
            reserved_disk_gib = self.reserved_disk_gib

        reserved_memory_mib: int | None | Unset
        if isinstance(self.reserved_memory_mib, Unset):
            reserved_memory_mib = UNSET
        else:
            reserved_memory_mib = self.reserved_memory_mib

        reserved_vcpus: int | None | Unset
        if isinstance(self.reserved_vcpus, Unset):
            reserved_vcpus = UNSET
        else:
            reserved_vcpus = self.reserved_vcpus

        strategy: None | str | Unset
        if isinstance(self.strategy, Unset):
            strategy = UNSET
        elif isinstance(self.strategy, PlacementStrategy):
            strategy = self.strategy.value
        else:
            strategy = self.strategy

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cpu_allocation_ratio is not UNSET:
            field_dict["cpu_allocation_ratio"] = cpu_allocation_ratio
        if default_lease_s is not UNSET:
            field_dict["default_lease_s"] = default_lease_s
        if default_reclaim_policy is not UNSET:
            field_dict["default_reclaim_policy"] = default_reclaim_policy
        if disk_allocation_ratio is not UNSET:
            field_dict["disk_allocation_ratio"] = disk_allocation_ratio
        if idle_action is not UNSET:
            field_dict["idle_action"] = idle_action
        if idle_cpu_percent is not UNSET:
            field_dict["idle_cpu_percent"] = idle_cpu_percent
        if idle_period_s is not UNSET:
            field_dict["idle_period_s"] = idle_period_s
        if idle_warning_s is not UNSET:
            field_dict["idle_warning_s"] = idle_warning_s
        if max_lease_s is not UNSET:
            field_dict["max_lease_s"] = max_lease_s
        if members_may_migrate is not UNSET:
            field_dict["members_may_migrate"] = members_may_migrate
        if migration_tls is not UNSET:
            field_dict["migration_tls"] = migration_tls
        if ram_allocation_ratio is not UNSET:
            field_dict["ram_allocation_ratio"] = ram_allocation_ratio
        if rebalance_cooldown_s is not UNSET:
            field_dict["rebalance_cooldown_s"] = rebalance_cooldown_s
        if rebalance_hysteresis_cycles is not UNSET:
            field_dict["rebalance_hysteresis_cycles"] = rebalance_hysteresis_cycles
        if rebalance_interval_s is not UNSET:
            field_dict["rebalance_interval_s"] = rebalance_interval_s
        if rebalance_max_memory_mib is not UNSET:
            field_dict["rebalance_max_memory_mib"] = rebalance_max_memory_mib
        if rebalance_max_moves is not UNSET:
            field_dict["rebalance_max_moves"] = rebalance_max_moves
        if rebalance_min_gain is not UNSET:
            field_dict["rebalance_min_gain"] = rebalance_min_gain
        if rebalance_mode is not UNSET:
            field_dict["rebalance_mode"] = rebalance_mode
        if rebalance_strategy is not UNSET:
            field_dict["rebalance_strategy"] = rebalance_strategy
        if reserved_disk_gib is not UNSET:
            field_dict["reserved_disk_gib"] = reserved_disk_gib
        if reserved_memory_mib is not UNSET:
            field_dict["reserved_memory_mib"] = reserved_memory_mib
        if reserved_vcpus is not UNSET:
            field_dict["reserved_vcpus"] = reserved_vcpus
        if strategy is not UNSET:
            field_dict["strategy"] = strategy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cpu_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cpu_allocation_ratio = _parse_cpu_allocation_ratio(d.pop("cpu_allocation_ratio", UNSET))

        def _parse_default_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        default_lease_s = _parse_default_lease_s(d.pop("default_lease_s", UNSET))

        def _parse_default_reclaim_policy(
            data: object,
        ) -> None | PoolPolicyInDefaultReclaimPolicyType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                default_reclaim_policy_type_0 = PoolPolicyInDefaultReclaimPolicyType0(data)

                return default_reclaim_policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PoolPolicyInDefaultReclaimPolicyType0 | Unset, data)

        default_reclaim_policy = _parse_default_reclaim_policy(
            d.pop("default_reclaim_policy", UNSET)
        )

        def _parse_disk_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        disk_allocation_ratio = _parse_disk_allocation_ratio(d.pop("disk_allocation_ratio", UNSET))

        def _parse_idle_action(data: object) -> None | PoolPolicyInIdleActionType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                idle_action_type_0 = PoolPolicyInIdleActionType0(data)

                return idle_action_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PoolPolicyInIdleActionType0 | Unset, data)

        idle_action = _parse_idle_action(d.pop("idle_action", UNSET))

        def _parse_idle_cpu_percent(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        idle_cpu_percent = _parse_idle_cpu_percent(d.pop("idle_cpu_percent", UNSET))

        def _parse_idle_period_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        idle_period_s = _parse_idle_period_s(d.pop("idle_period_s", UNSET))

        def _parse_idle_warning_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        idle_warning_s = _parse_idle_warning_s(d.pop("idle_warning_s", UNSET))

        def _parse_max_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_lease_s = _parse_max_lease_s(d.pop("max_lease_s", UNSET))

        def _parse_members_may_migrate(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        members_may_migrate = _parse_members_may_migrate(d.pop("members_may_migrate", UNSET))

        def _parse_migration_tls(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        migration_tls = _parse_migration_tls(d.pop("migration_tls", UNSET))

        def _parse_ram_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ram_allocation_ratio = _parse_ram_allocation_ratio(d.pop("ram_allocation_ratio", UNSET))

        def _parse_rebalance_cooldown_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebalance_cooldown_s = _parse_rebalance_cooldown_s(d.pop("rebalance_cooldown_s", UNSET))

        def _parse_rebalance_hysteresis_cycles(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebalance_hysteresis_cycles = _parse_rebalance_hysteresis_cycles(
            d.pop("rebalance_hysteresis_cycles", UNSET)
        )

        def _parse_rebalance_interval_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebalance_interval_s = _parse_rebalance_interval_s(d.pop("rebalance_interval_s", UNSET))

        def _parse_rebalance_max_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebalance_max_memory_mib = _parse_rebalance_max_memory_mib(
            d.pop("rebalance_max_memory_mib", UNSET)
        )

        def _parse_rebalance_max_moves(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rebalance_max_moves = _parse_rebalance_max_moves(d.pop("rebalance_max_moves", UNSET))

        def _parse_rebalance_min_gain(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        rebalance_min_gain = _parse_rebalance_min_gain(d.pop("rebalance_min_gain", UNSET))

        def _parse_rebalance_mode(data: object) -> None | RebalanceMode | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rebalance_mode_type_0 = RebalanceMode(data)

                return rebalance_mode_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RebalanceMode | Unset, data)

        rebalance_mode = _parse_rebalance_mode(d.pop("rebalance_mode", UNSET))

        def _parse_rebalance_strategy(data: object) -> None | Strategy | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rebalance_strategy_type_0 = Strategy(data)

                return rebalance_strategy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Strategy | Unset, data)

        rebalance_strategy = _parse_rebalance_strategy(d.pop("rebalance_strategy", UNSET))

        def _parse_reserved_disk_gib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reserved_disk_gib = _parse_reserved_disk_gib(d.pop("reserved_disk_gib", UNSET))

        def _parse_reserved_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reserved_memory_mib = _parse_reserved_memory_mib(d.pop("reserved_memory_mib", UNSET))

        def _parse_reserved_vcpus(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reserved_vcpus = _parse_reserved_vcpus(d.pop("reserved_vcpus", UNSET))

        def _parse_strategy(data: object) -> None | PlacementStrategy | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                strategy_type_0 = PlacementStrategy(data)

                return strategy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlacementStrategy | Unset, data)

        strategy = _parse_strategy(d.pop("strategy", UNSET))

        pool_policy_in = cls(
            cpu_allocation_ratio=cpu_allocation_ratio,
            default_lease_s=default_lease_s,
            default_reclaim_policy=default_reclaim_policy,
            disk_allocation_ratio=disk_allocation_ratio,
            idle_action=idle_action,
            idle_cpu_percent=idle_cpu_percent,
            idle_period_s=idle_period_s,
            idle_warning_s=idle_warning_s,
            max_lease_s=max_lease_s,
            members_may_migrate=members_may_migrate,
            migration_tls=migration_tls,
            ram_allocation_ratio=ram_allocation_ratio,
            rebalance_cooldown_s=rebalance_cooldown_s,
            rebalance_hysteresis_cycles=rebalance_hysteresis_cycles,
            rebalance_interval_s=rebalance_interval_s,
            rebalance_max_memory_mib=rebalance_max_memory_mib,
            rebalance_max_moves=rebalance_max_moves,
            rebalance_min_gain=rebalance_min_gain,
            rebalance_mode=rebalance_mode,
            rebalance_strategy=rebalance_strategy,
            reserved_disk_gib=reserved_disk_gib,
            reserved_memory_mib=reserved_memory_mib,
            reserved_vcpus=reserved_vcpus,
            strategy=strategy,
        )

        return pool_policy_in
