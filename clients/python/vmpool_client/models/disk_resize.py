from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DiskResize")


@_attrs_define
class DiskResize:
    """
    Attributes:
        size_gib (int): larger only: no shrink
    """

    size_gib: int

    def to_dict(self) -> dict[str, Any]:
        size_gib = self.size_gib

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "size_gib": size_gib,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        size_gib = d.pop("size_gib")

        disk_resize = cls(
            size_gib=size_gib,
        )

        return disk_resize
