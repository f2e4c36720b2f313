from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HugePagesOut")


@_attrs_define
class HugePagesOut:
    """
    Attributes:
        free (int): as libvirt last reported
        size_kib (int):
        total (int):
        claimed (int | Unset): pages claimed on this cell by VMs bound to it Default: 0.
    """

    free: int
    size_kib: int
    total: int
    claimed: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        free = self.free

        size_kib = self.size_kib

        total = self.total

        claimed = self.claimed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "free": free,
                "size_kib": size_kib,
                "total": total,
            }
        )
        if claimed is not UNSET:
            field_dict["claimed"] = claimed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        free = d.pop("free")

        size_kib = d.pop("size_kib")

        total = d.pop("total")

        claimed = d.pop("claimed", UNSET)

        huge_pages_out = cls(
            free=free,
            size_kib=size_kib,
            total=total,
            claimed=claimed,
        )

        huge_pages_out.additional_properties = d
        return huge_pages_out

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
