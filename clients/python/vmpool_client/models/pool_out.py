from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PoolOut")


@_attrs_define
class PoolOut:
    """
    Attributes:
        cpu_allocation_ratio (float):
        disk_allocation_ratio (float):
        id (int):
        members_may_migrate (bool):
        migration_tls (bool):
        name (str):
        ram_allocation_ratio (float):
        rebalance_cooldown_s (int):
        rebalance_hysteresis_cycles (int):
        rebalance_interval_s (int):
        rebalance_last_result (None | str): what the last cycle decided
        rebalance_last_run_at (datetime.datetime | None):
        rebalance_max_memory_mib (int): memory a plan may copy; 0: no budget
        rebalance_max_moves (int):
        rebalance_min_gain (float):
        rebalance_mode (str): off | recommend | auto
        rebalance_strategy (str): balance | consolidate
        rebalance_streak (int): consecutive cycles that found an improving plan (hysteresis)
        reserved_disk_gib (int):
        reserved_memory_mib (int):
        reserved_vcpus (int):
        strategy (str):
        default_lease_s (int | None | Unset): a new VM's lease; null: none
        default_reclaim_policy (str | Unset):  Default: 'stop'.
        idle_action (str | Unset): report | reclaim Default: 'report'.
        idle_cpu_percent (float | None | Unset): the idle rule's CPU threshold; null: no idle rule
        idle_period_s (int | Unset):  Default: 3600.
        idle_warning_s (int | Unset):  Default: 3600.
        max_lease_s (int | None | Unset): the furthest a lease may reach from now; null: no limit
    """

    cpu_allocation_ratio: float
    disk_allocation_ratio: float
    id: int
    members_may_migrate: bool
    migration_tls: bool
    name: str
    ram_allocation_ratio: float
    rebalance_cooldown_s: int
    rebalance_hysteresis_cycles: int
    rebalance_interval_s: int
    rebalance_last_result: None | str
    rebalance_last_run_at: datetime.datetime | None
    rebalance_max_memory_mib: int
    rebalance_max_moves: int
    rebalance_min_gain: float
    rebalance_mode: str
    rebalance_strategy: str
    rebalance_streak: int
    reserved_disk_gib: int
    reserved_memory_mib: int
    reserved_vcpus: int
    strategy: str
    default_lease_s: int | None | Unset = UNSET
    default_reclaim_policy: str | Unset = "stop"
    idle_action: str | Unset = "report"
    idle_cpu_percent: float | None | Unset = UNSET
    idle_period_s: int | Unset = 3600
    idle_warning_s: int | Unset = 3600
    max_lease_s: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_allocation_ratio = self.cpu_allocation_ratio

        disk_allocation_ratio = self.disk_allocation_ratio

        id = self.id

        members_may_migrate = self.members_may_migrate

        migration_tls = self.migration_tls

        name = self.name

        ram_allocation_ratio = self.ram_allocation_ratio

        rebalance_cooldown_s = self.rebalance_cooldown_s

        rebalance_hysteresis_cycles = self.rebalance_hysteresis_cycles

        rebalance_interval_s = self.rebalance_interval_s

        rebalance_last_result: None | str
        rebalance_last_result = self.rebalance_last_result

        rebalance_last_run_at: None | str
        if isinstance(self.rebalance_last_run_at, datetime.datetime):
            rebalance_last_run_at = self.rebalance_last_run_at.isoformat()
        else:
            rebalance_last_run_at = self.rebalance_last_run_at

        rebalance_max_memory_mib = self.rebalance_max_memory_mib

        rebalance_max_moves = self.rebalance_max_moves

        rebalance_min_gain = self.rebalance_min_gain

        rebalance_mode = self.rebalance_mode

        rebalance_strategy = self.rebalance_strategy

        rebalance_streak = self.rebalance_streak

        reserved_disk_gib = self.reserved_disk_gib

        reserved_memory_mib = self.reserved_memory_mib

        reserved_vcpus = self.reserved_vcpus

        strategy = self.strategy

        default_lease_s: int | None | Unset
        if isinstance(self.default_lease_s, Unset):
            default_lease_s = UNSET
        else:
            default_lease_s = self.default_lease_s

        default_reclaim_policy = self.default_reclaim_policy

        idle_action = self.idle_action

        idle_cpu_percent: float | None | Unset
        if isinstance(self.idle_cpu_percent, Unset):
            idle_cpu_percent = UNSET
        else:
            idle_cpu_percent = self.idle_cpu_percent

        idle_period_s = self.idle_period_s

        idle_warning_s = self.idle_warning_s

        max_lease_s: int | None | Unset
        if isinstance(self.max_lease_s, Unset):
            max_lease_s = UNSET
        else:
            max_lease_s = self.max_lease_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_allocation_ratio": cpu_allocation_ratio,
                "disk_allocation_ratio": disk_allocation_ratio,
                "id": id,
                "members_may_migrate": members_may_migrate,
                "migration_tls": migration_tls,
                "name": name,
                "ram_allocation_ratio": ram_allocation_ratio,
                "rebalance_cooldown_s": rebalance_cooldown_s,
                "rebalance_hysteresis_cycles": rebalance_hysteresis_cycles,
                "rebalance_interval_s": rebalance_interval_s,
                "rebalance_last_result": rebalance_last_result,
                "rebalance_last_run_at": rebalance_last_run_at,
                "rebalance_max_memory_mib": rebalance_max_memory_mib,
                "rebalance_max_moves": rebalance_max_moves,
                "rebalance_min_gain": rebalance_min_gain,
                "rebalance_mode": rebalance_mode,
                "rebalance_strategy": rebalance_strategy,
                "rebalance_streak": rebalance_streak,
                "reserved_disk_gib": reserved_disk_gib,
                "reserved_memory_mib": reserved_memory_mib,
                "reserved_vcpus": reserved_vcpus,
                "strategy": strategy,
            }
        )
        if default_lease_s is not UNSET:
            field_dict["default_lease_s"] = default_lease_s
        if default_reclaim_policy is not UNSET:
            field_dict["default_reclaim_policy"] = default_reclaim_policy
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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cpu_allocation_ratio = d.pop("cpu_allocation_ratio")

        disk_allocation_ratio = d.pop("disk_allocation_ratio")

        id = d.pop("id")

        members_may_migrate = d.pop("members_may_migrate")

        migration_tls = d.pop("migration_tls")

        name = d.pop("name")

        ram_allocation_ratio = d.pop("ram_allocation_ratio")

        rebalance_cooldown_s = d.pop("rebalance_cooldown_s")

        rebalance_hysteresis_cycles = d.pop("rebalance_hysteresis_cycles")

        rebalance_interval_s = d.pop("rebalance_interval_s")

        def _parse_rebalance_last_result(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        rebalance_last_result = _parse_rebalance_last_result(d.pop("rebalance_last_result"))

        def _parse_rebalance_last_run_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                rebalance_last_run_at_type_0 = datetime.datetime.fromisoformat(data)

                return rebalance_last_run_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        rebalance_last_run_at = _parse_rebalance_last_run_at(d.pop("rebalance_last_run_at"))

        rebalance_max_memory_mib = d.pop("rebalance_max_memory_mib")

        rebalance_max_moves = d.pop("rebalance_max_moves")

        rebalance_min_gain = d.pop("rebalance_min_gain")

        rebalance_mode = d.pop("rebalance_mode")

        rebalance_strategy = d.pop("rebalance_strategy")

        rebalance_streak = d.pop("rebalance_streak")

        reserved_disk_gib = d.pop("reserved_disk_gib")

        reserved_memory_mib = d.pop("reserved_memory_mib")

        reserved_vcpus = d.pop("reserved_vcpus")

        strategy = d.pop("strategy")

        def _parse_default_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        default_lease_s = _parse_default_lease_s(d.pop("default_lease_s", UNSET))

        default_reclaim_policy = d.pop("default_reclaim_policy", UNSET)

        idle_action = d.pop("idle_action", UNSET)

        def _parse_idle_cpu_percent(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        idle_cpu_percent = _parse_idle_cpu_percent(d.pop("idle_cpu_percent", UNSET))

        idle_period_s = d.pop("idle_period_s", UNSET)

        idle_warning_s = d.pop("idle_warning_s", UNSET)

        def _parse_max_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_lease_s = _parse_max_lease_s(d.pop("max_lease_s", UNSET))

        pool_out = cls(
            cpu_allocation_ratio=cpu_allocation_ratio,
            disk_allocation_ratio=disk_allocation_ratio,
            id=id,
            members_may_migrate=members_may_migrate,
            migration_tls=migration_tls,
            name=name,
            ram_allocation_ratio=ram_allocation_ratio,
            rebalance_cooldown_s=rebalance_cooldown_s,
            rebalance_hysteresis_cycles=rebalance_hysteresis_cycles,
            rebalance_interval_s=rebalance_interval_s,
            rebalance_last_result=rebalance_last_result,
            rebalance_last_run_at=rebalance_last_run_at,
            rebalance_max_memory_mib=rebalance_max_memory_mib,
            rebalance_max_moves=rebalance_max_moves,
            rebalance_min_gain=rebalance_min_gain,
            rebalance_mode=rebalance_mode,
            rebalance_strategy=rebalance_strategy,
            rebalance_streak=rebalance_streak,
            reserved_disk_gib=reserved_disk_gib,
            reserved_memory_mib=reserved_memory_mib,
            reserved_vcpus=reserved_vcpus,
            strategy=strategy,
            default_lease_s=default_lease_s,
            default_reclaim_policy=default_reclaim_policy,
            idle_action=idle_action,
            idle_cpu_percent=idle_cpu_percent,
            idle_period_s=idle_period_s,
            idle_warning_s=idle_warning_s,
            max_lease_s=max_lease_s,
        )

        pool_out.additional_properties = d
        return pool_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
