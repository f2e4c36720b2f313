from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeviceRequestIn")


@_attrs_define
class DeviceRequestIn:
    """
    Attributes:
        alias (str): an alias an operator gave assignable devices, e.g. gpu:a100
        count (int | Unset):  Default: 1.
    """

    alias: str
    count: int | Unset = 1

    def to_dict(self) -> dict[str, Any]:
        alias = self.alias

        count = self.count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "alias": alias,
            }
        )
        if count is not UNSET:
            field_dict["count"] = count

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        alias = d.pop("alias")

        count = d.pop("count", UNSET)

        device_request_in = cls(
            alias=alias,
            count=count,
        )

        return device_request_in
