from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="HostDeviceUpdate")


@_attrs_define
class HostDeviceUpdate:
    """
    Attributes:
        alias (None | str): make the device assignable under this alias (e.g. gpu:a100); null: not assignable
    """

    alias: None | str

    def to_dict(self) -> dict[str, Any]:
        alias: None | str
        alias = self.alias

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "alias": alias,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_alias(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        alias = _parse_alias(d.pop("alias"))

        host_device_update = cls(
            alias=alias,
        )

        return host_device_update
