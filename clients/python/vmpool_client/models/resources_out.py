from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ResourcesOut")


@_attrs_define
class ResourcesOut:
    """
    Attributes:
        disk_gib (float):
        memory_mib (float):
        vcpus (float):
    """

    disk_gib: float
    memory_mib: float
    vcpus: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        disk_gib = self.disk_gib

        memory_mib = self.memory_mib

        vcpus = self.vcpus

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "disk_gib": disk_gib,
                "memory_mib": memory_mib,
                "vcpus": vcpus,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gib = d.pop("disk_gib")

        memory_mib = d.pop("memory_mib")

        vcpus = d.pop("vcpus")

        resources_out = cls(
            disk_gib=disk_gib,
            memory_mib=memory_mib,
            vcpus=vcpus,
        )

        resources_out.additional_properties = d
        return resources_out

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
