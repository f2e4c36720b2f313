from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

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
