from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.host_room_out import HostRoomOut
    from ..models.rejection_out import RejectionOut


T = TypeVar("T", bound="CapacityOut")


@_attrs_define
class CapacityOut:
    """
    Attributes:
        disk_gib (int):
        memory_mib (int):
        per_host (list[HostRoomOut]):
        rejections (list[RejectionOut]):
        total (int): how many more VMs of this size the pool can take
        vcpus (int):
    """

    disk_gib: int
    memory_mib: int
    per_host: list[HostRoomOut]
    rejections: list[RejectionOut]
    total: int
    vcpus: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        disk_gib = self.disk_gib

        memory_mib = self.memory_mib

        per_host = []
        for per_host_item_data in self.per_host:
            per_host_item = per_host_item_data.to_dict()
            per_host.append(per_host_item)

        rejections = []
        for rejections_item_data in self.rejections:
            rejections_item = rejections_item_data.to_dict()
            rejections.append(rejections_item)

        total = self.total

        vcpus = self.vcpus

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "disk_gib": disk_gib,
                "memory_mib": memory_mib,
                "per_host": per_host,
                "rejections": rejections,
                "total": total,
                "vcpus": vcpus,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_room_out import HostRoomOut  # noqa: PLC0415
        from ..models.rejection_out import RejectionOut  # noqa: PLC0415

        d = dict(src_dict)
        disk_gib = d.pop("disk_gib")

        memory_mib = d.pop("memory_mib")

        per_host = []
        _per_host = d.pop("per_host")
        for per_host_item_data in _per_host:
            per_host_item = HostRoomOut.from_dict(per_host_item_data)

            per_host.append(per_host_item)

        rejections = []
        _rejections = d.pop("rejections")
        for rejections_item_data in _rejections:
            rejections_item = RejectionOut.from_dict(rejections_item_data)

            rejections.append(rejections_item)

        total = d.pop("total")

        vcpus = d.pop("vcpus")

        capacity_out = cls(
            disk_gib=disk_gib,
            memory_mib=memory_mib,
            per_host=per_host,
            rejections=rejections,
            total=total,
            vcpus=vcpus,
        )

        capacity_out.additional_properties = d
        return capacity_out

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
