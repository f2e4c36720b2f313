from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HostOverridesOut")


@_attrs_define
class HostOverridesOut:
    """
    Attributes:
        cpu_allocation_ratio (float | None):
        disk_allocation_ratio (float | None):
        ram_allocation_ratio (float | None):
        reserved_memory_mib (int | None):
        reserved_vcpus (int | None):
    """

    cpu_allocation_ratio: float | None
    disk_allocation_ratio: float | None
    ram_allocation_ratio: float | None
    reserved_memory_mib: int | None
    reserved_vcpus: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_allocation_ratio: float | None
        cpu_allocation_ratio = self.cpu_allocation_ratio

        disk_allocation_ratio: float | None
        disk_allocation_ratio = self.disk_allocation_ratio

        ram_allocation_ratio: float | None
        ram_allocation_ratio = self.ram_allocation_ratio

        reserved_memory_mib: int | None
        reserved_memory_mib = self.reserved_memory_mib

        reserved_vcpus: int | None
        reserved_vcpus = self.reserved_vcpus

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_allocation_ratio": cpu_allocation_ratio,
                "disk_allocation_ratio": disk_allocation_ratio,
                "ram_allocation_ratio": ram_allocation_ratio,
                "reserved_memory_mib": reserved_memory_mib,
                "reserved_vcpus": reserved_vcpus,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cpu_allocation_ratio(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cpu_allocation_ratio = _parse_cpu_allocation_ratio(d.pop("cpu_allocation_ratio"))

        def _parse_disk_allocation_ratio(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        disk_allocation_ratio = _parse_disk_allocation_ratio(d.pop("disk_allocation_ratio"))

        def _parse_ram_allocation_ratio(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        ram_allocation_ratio = _parse_ram_allocation_ratio(d.pop("ram_allocation_ratio"))

        def _parse_reserved_memory_mib(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        reserved_memory_mib = _parse_reserved_memory_mib(d.pop("reserved_memory_mib"))

        def _parse_reserved_vcpus(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        reserved_vcpus = _parse_reserved_vcpus(d.pop("reserved_vcpus"))

        host_overrides_out = cls(
            cpu_allocation_ratio=cpu_allocation_ratio,
            disk_allocation_ratio=disk_allocation_ratio,
            ram_allocation_ratio=ram_allocation_ratio,
            reserved_memory_mib=reserved_memory_mib,
            reserved_vcpus=reserved_vcpus,
        )

        host_overrides_out.additional_properties = d
        return host_overrides_out

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
