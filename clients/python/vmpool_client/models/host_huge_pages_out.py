from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HostHugePagesOut")


@_attrs_define
class HostHugePagesOut:
    """
    Attributes:
        available (int): total - claimed: what placement offers
        claimed (int): pages claimed by vmpool's VMs, bound to a cell or not
        size_kib (int):
        total (int): pages of this size on the host, as libvirt last reported
    """

    available: int
    claimed: int
    size_kib: int
    total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        available = self.available

        claimed = self.claimed

        size_kib = self.size_kib

        total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "available": available,
                "claimed": claimed,
                "size_kib": size_kib,
                "total": total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        available = d.pop("available")

        claimed = d.pop("claimed")

        size_kib = d.pop("size_kib")

        total = d.pop("total")

        host_huge_pages_out = cls(
            available=available,
            claimed=claimed,
            size_kib=size_kib,
            total=total,
        )

        host_huge_pages_out.additional_properties = d
        return host_huge_pages_out

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
